// Package datadir is the hub's data folder: the one place that knows the
// name of each store's file in it (hub.db, console.db, passes.db and
// keys/) and opens each store the same way for `hub serve` and for every
// other command.
//
// datadir imports hub/records, hub/operators, hub/passes, hub/registry and
// internal;
// hub/server, the hub program and the demo import it.
package datadir

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/gatepost/gatepost/hub/operators"
	"github.com/gatepost/gatepost/hub/passes"
	"github.com/gatepost/gatepost/hub/records"
	"github.com/gatepost/gatepost/internal/clock"
)

// Default is where the hub keeps its data unless --data says otherwise.
const Default = "./hub-data"

// RecordsFile is the hub's records (entries, kiosks, downlinks) in the
// data folder.
const RecordsFile = "hub.db"

// Dir is a hub data folder.
type Dir struct {
	Path string
	// Logger logs the slow steps of opening a hub.db an older build wrote
	// (migrations, new indexes), so that a pause is not taken for a hang;
	// nil logs nothing.
	Logger *slog.Logger
	Clock  clock.Clock // given to the stores; nil is the wall clock
}

// RecordsPath is the path of hub.db.
func (d Dir) RecordsPath() string { return filepath.Join(d.Path, RecordsFile) }

// OperatorsPath is the path of console.db.
func (d Dir) OperatorsPath() string { return filepath.Join(d.Path, operators.FileName) }

// OpenRecords opens hub.db, creating it if needed.
func (d Dir) OpenRecords() (*records.SQLite, error) {
	log := d.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s, err := records.OpenLogged(d.RecordsPath(), log)
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
	if _, err := os.Stat(d.RecordsPath()); err != nil {
		return nil, fmt.Errorf("no hub data in %s: %w", d.Path, err)
	}
	return d.OpenRecords()
}

// OpenPasses opens the pass store (passes.db and keys/), creating it if
// needed.
func (d Dir) OpenPasses() (*passes.Store, error) { return passes.Open(d.Path, d.Clock) }

// OpenOperators opens console.db, creating it if needed.
func (d Dir) OpenOperators() (*operators.Store, error) {
	return operators.Open(d.OperatorsPath(), d.Clock)
}
