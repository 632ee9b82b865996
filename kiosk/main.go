// Command kiosk is the gate daemon: it reads the thermometer and the QR
// scanner, decides, journals every entry to SQLite and syncs to the hub.
// This file builds the command tree; shell.go holds what the commands
// share (the --config and --json flags, opening the journal); the work is
// in kiosk/daemon and the packages it wires.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
)

func newRootCmd(version string) *cobra.Command {
	root := &cobra.Command{
		Use:           "kiosk",
		Short:         "The gatepost gate daemon",
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newRunCmd(), newInitCmd(), newStatusCmd(), newVerifyCmd(time.Now),
		newPortsCmd(), newProbeCmd(), newCalibrateCmd(), newExportCmd(), newIdentityCmd(), newEnrollCmd(time.Now),
		newBackupCmd(time.Now), newRestoreCmd(), newDoctorCmd(time.Now))
	return root
}

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRootCmd(version).ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "kiosk:", err)
		os.Exit(1)
	}
}
