// Command hub is gatepost's central server: it receives every kiosk's
// entries over MQTT, stores them exactly once, acknowledges them, and shows
// them to operators.
//
//	hub serve   [--data DIR] [--mqtt-listen ADDR] [--http-listen ADDR] [--broker URL]
//	hub entries [--data DIR] [--json] [--kiosk K] [--limit N]
//
// main only parses flags and calls: each cobra command is its flags and
// a call. shell.go holds what the commands share: the one --data flag, the
// opening of the data folder's stores (through hub/datadir, as hub/server
// does) and the one printer of --json or a table. The running hub itself
// is package hub/server.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRootCommand(buildVersion(), os.Stdout, os.Stderr).ExecuteContext(ctx)
	stop()
	if err != nil {
		os.Exit(1) // cobra has printed it
	}
}

// version is set at build time with -ldflags "-X main.version=..." (the
// packages do: tools/package); empty, the module version is used.
var version string

// buildVersion is the version stamped at build time, else the module
// version the binary was built from.
func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}
