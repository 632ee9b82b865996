// Package datadir is the hub's data folder: the one place that knows the
// names of the files in it (hub.db, which holds every store's tables on
// SQLite, and keys/; the old console.db, passes.db and kiosks.db, which
// it merges into hub.db: merge.go) and opens each store the same way for
// `hub serve` and for every other command.
//
// datadir imports hub/records, hub/operators, hub/passes, hub/registry and
// internal;
// hub/server, the hub program and the demo import it.
package datadir

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/gatepost/gatepost/hub/operators"
	"github.com/gatepost/gatepost/hub/passes"
	"github.com/gatepost/gatepost/hub/records"
	"github.com/gatepost/gatepost/hub/sqlstore"
	"github.com/gatepost/gatepost/internal/clock"
)

// Default is where the hub keeps its data unless --data says otherwise.
const Default = "./hub-data"

// RecordsFile is the hub's SQLite database in the data folder: the
// records (entries, kiosks, downlinks) and, since issue 15, the console
// store, the passes' tables and the kiosk registry, each store with its
// own goose table.
const RecordsFile = "hub.db"

// Dir is a hub data folder.
type Dir struct {
	Path string
	// Logger logs the slow steps of opening a hub.db an older build wrote
	// (migrations, new indexes), so that a pause is not taken for a hang;
	// nil logs nothing.
	Logger *slog.Logger
	Clock  clock.Clock // given to the stores; nil is the wall clock
	// Database, when set, is the PostgreSQL URL (postgres://…) that holds
	// the hub's state instead of the SQLite files in Path, for hub
	// replicas sharing one database. Path still holds the hub's own files:
	// its secrets, keys and TLS certificates.
	Database string
}

// DatabaseEnv is the environment variable that gives --database its
// default, so that a unit file or a container names the database without
// putting it on a command line.
const DatabaseEnv = "GATEPOST_DATABASE"

// CheckDatabase refuses a Database that is not a PostgreSQL URL: SQLite
// is the data folder's files, named by Path.
func (d Dir) CheckDatabase() error {
	if d.Database == "" || sqlstore.IsPostgres(d.Database) {
		return nil
	}
	return fmt.Errorf("--database takes a PostgreSQL URL (postgres://user@host:5432/db), not %q: "+
		"the SQLite files live in the data folder (--data)", d.Database)
}

// RecordsPath is the path of hub.db.
func (d Dir) RecordsPath() string { return filepath.Join(d.Path, RecordsFile) }

// OpenRecords opens the records, creating them if needed: in PostgreSQL
// when Database is set, else in hub.db (the old files merged first).
func (d Dir) OpenRecords() (*records.SQLite, error) {
	if err := d.CheckDatabase(); err != nil {
		return nil, err
	}
	if err := d.Merge(context.Background()); err != nil {
		return nil, err
	}
	log := d.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s, err := records.OpenLogged(cmp.Or(d.Database, d.RecordsPath()), log)
	if err != nil {
		return nil, err
	}
	s.Clock = d.Clock
	return s, nil
}

// OpenExistingRecords opens hub.db and fails if it does not exist: a
// command must not create an empty database where the user mistyped a
// path.
func (d Dir) OpenExistingRecords() (*records.SQLite, error) {
	if d.Database != "" {
		if err := d.CheckDatabase(); err != nil {
			return nil, err
		}
		if _, _, err := records.Versions(context.Background(), d.Database); err != nil {
			return nil, fmt.Errorf("no hub data in the PostgreSQL database (--database) yet: %w", err)
		}
		return d.OpenRecords()
	}
	if _, err := os.Stat(d.RecordsPath()); err != nil {
		return nil, fmt.Errorf("no hub data in %s: %w", d.Path, err)
	}
	return d.OpenRecords()
}

// OpenPasses opens the pass store, creating it if needed: its tables in
// PostgreSQL when Database is set, else in hub.db (the old files merged
// first); the private keys in keys/ either way.
func (d Dir) OpenPasses() (*passes.Store, error) {
	if err := d.CheckDatabase(); err != nil {
		return nil, err
	}
	ctx := context.Background()
	if d.Database != "" {
		return passes.OpenDatabase(ctx, d.Database, d.Path, d.Clock)
	}
	if err := d.Merge(ctx); err != nil {
		return nil, err
	}
	return passes.OpenShared(ctx, d.RecordsPath(), d.Path, d.Clock)
}

// OpenOperators opens the console's store, creating it if needed: in
// PostgreSQL when Database is set, else in hub.db (the old files merged
// first).
func (d Dir) OpenOperators() (*operators.Store, error) {
	if err := d.CheckDatabase(); err != nil {
		return nil, err
	}
	if d.Database != "" {
		return operators.Open(d.Database, d.Clock)
	}
	ctx := context.Background()
	if err := d.Merge(ctx); err != nil {
		return nil, err
	}
	return operators.OpenShared(ctx, d.RecordsPath(), d.Clock)
}
