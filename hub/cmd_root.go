package main

import (
	"io"

	"github.com/spf13/cobra"
)

// defaultDataDir is where the hub keeps hub.db unless --data says otherwise.
const defaultDataDir = "./hub-data"

func newRootCommand(version string, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:          "hub",
		Short:        "gatepost hub: receives, stores and shows the kiosks' entries",
		Version:      version,
		SilenceUsage: true, // a failing run is not a usage mistake
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(newServeCommand(stdout, stderr), newEntriesCommand(stdout), newKiosksCommand(stdout), newKeysCommand(stdout), newPassesCommand(stdout),
		newImportCommand(stdout), newPushCommand(stdout), newUsersCommand(stdout), newTokensCommand(stdout), newPurgeCommand(stdout))
	return root
}
