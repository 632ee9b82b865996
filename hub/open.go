package main

import (
	"log/slog"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/gatepost/gatepost/hub/operators"
	"github.com/gatepost/gatepost/hub/records"
)

// openRecords opens hub.db for a command. The first open of a file an
// older build wrote can migrate it and build indexes for seconds; those
// steps are logged on the command's standard error, so that an operator
// does not take the pause for a hang. Nothing is logged otherwise.
func openRecords(cmd *cobra.Command, path string) (*records.SQLite, error) {
	log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelInfo}))
	return records.OpenLogged(path, log)
}

// withOperators opens console.db in dataDir, runs fn with it, and closes
// it: the user and token commands.
func withOperators(dataDir string, fn func(*operators.Store) error) error {
	s, err := operators.Open(filepath.Join(dataDir, operators.FileName), nil)
	if err != nil {
		return err
	}
	defer s.Close()
	return fn(s)
}
