package main

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/gatepost/gatepost/internal/clock"
)

func newRootCommand(version string, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:          "hub",
		Short:        "gatepost hub: receives, stores and shows the kiosks' entries",
		Version:      version,
		SilenceUsage: true, // a failing run is not a usage mistake
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	data := &hubData{clock: clock.Real()}
	data.register(root)
	root.AddCommand(newServeCommand(data, stdout, stderr), newEntriesCommand(data, stdout), newKiosksCommand(data, stdout),
		newKeysCommand(data, stdout), newPassesCommand(data, stdout), newImportCommand(data, stdout), newPushCommand(data, stdout),
		newUsersCommand(data, stdout), newTokensCommand(data, stdout), newPurgeCommand(data, stdout),
		newTLSCommand(data, stdout), newVerifyCommand(data, stdout),
		newBrokerConfigCommand(data, stdout), newBackupCommand(data, stdout), newRestoreCommand(data, stdout),
		newDoctorCommand(data, stdout), newCopyToPostgresCommand(data, stdout))
	return root
}
