package main

import (
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/gatepost/gatepost/hub/datadir"
	"github.com/gatepost/gatepost/hub/operators"
	"github.com/gatepost/gatepost/hub/passes"
	"github.com/gatepost/gatepost/hub/records"
	"github.com/gatepost/gatepost/internal/clock"
)

// hubData is the one --data flag, declared once on the root command for
// every command, and the one place the hub program opens the stores of
// that folder (through hub/datadir, as `hub serve` does). Its clock is
// the commands' clock: the wall clock, held here so that no command reads
// time on its own.
type hubData struct {
	path     string
	database string
	clock    clock.Clock
}

func (h *hubData) register(root *cobra.Command) {
	root.PersistentFlags().StringVar(&h.path, "data", datadir.Default,
		"directory holding the hub's data (hub.db, keys/)")
	root.PersistentFlags().StringVar(&h.database, "database", os.Getenv(datadir.DatabaseEnv),
		"PostgreSQL URL (postgres://user@host:5432/db) holding the hub's state instead of the SQLite files in --data, "+
			"for replicas; keep the password out of it (PGPASSFILE or ~/.pgpass). Default: $"+datadir.DatabaseEnv)
}

// dir is the data folder. The first open of a hub.db an older build wrote
// can migrate it and build indexes for seconds; those steps are logged on
// the command's standard error, so that an operator does not take the
// pause for a hang. Nothing is logged otherwise.
func (h *hubData) dir(cmd *cobra.Command) datadir.Dir {
	log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelInfo}))
	return datadir.Dir{Path: h.path, Logger: log, Clock: h.clock, Database: h.database}
}

// withRecords opens hub.db, runs fn with it and closes it. With mustExist
// a missing hub.db is an error rather than created empty: the commands
// that read entries must not create a database where the user mistyped a
// path.
func (h *hubData) withRecords(cmd *cobra.Command, mustExist bool, fn func(*records.SQLite) error) error {
	open := h.dir(cmd).OpenRecords
	if mustExist {
		open = h.dir(cmd).OpenExistingRecords
	}
	s, err := open()
	if err != nil {
		return err
	}
	defer s.Close()
	return fn(s)
}

// withPasses opens the pass store, runs fn with it and closes it.
func (h *hubData) withPasses(cmd *cobra.Command, fn func(*passes.Store) error) error {
	s, err := h.dir(cmd).OpenPasses()
	if err != nil {
		return err
	}
	defer s.Close()
	return fn(s)
}

// withOperators opens the console store, runs fn with it and closes it.
func (h *hubData) withOperators(cmd *cobra.Command, fn func(*operators.Store) error) error {
	s, err := h.dir(cmd).OpenOperators()
	if err != nil {
		return err
	}
	defer s.Close()
	return fn(s)
}

// listing is how a command prints what it lists: indented JSON with
// --json, otherwise an aligned table.
type listing struct {
	json bool
	// rawText prints <, > and & as they are in the JSON (entries and
	// passes: scanned text and names); the other lists keep
	// encoding/json's default escaping. Both are part of the output.
	rawText bool
}

// print writes v as JSON, or calls table with a tabwriter and flushes it.
func (l listing) print(w io.Writer, v any, table func(tw io.Writer)) error {
	if l.json {
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(!l.rawText)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	table(tw)
	return tw.Flush()
}
