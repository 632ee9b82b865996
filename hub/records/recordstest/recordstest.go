// Package recordstest fills a hub's records for tests: SaveEntries stores
// entries as one kiosk's batch, numbered for them, so that a test of what
// the hub does with entries (alerts, the console) says only what matters
// to it.
//
// Only tests import recordstest (hub/alerts', hub/console's); it imports
// hub/records and protocol.
package recordstest

import (
	"fmt"
	"testing"
	"time"

	"github.com/gatepost/gatepost/hub/records"
	"github.com/gatepost/gatepost/protocol"
)

// Kiosk and Site are where SaveEntries' entries come from.
const (
	Kiosk = "gate-1"
	Site  = "huamu-001"
)

// SaveEntries stores es as one batch from Kiosk of Site, received at
// received: each entry gets the kiosk, sequence numbers from 1 and an id
// of its own, and, when it has none, a time a minute before received.
func SaveEntries(tb testing.TB, s *records.SQLite, received time.Time, es ...protocol.Entry) {
	tb.Helper()
	b := protocol.Batch{Kiosk: Kiosk, Site: Site, Sent: received}
	for i, e := range es {
		e.Kiosk, e.Seq = Kiosk, uint64(i+1)
		e.ID = fmt.Sprintf("0190d6e4-7a4b-7cc0-8b8e-%012x", i+1)
		if e.Time.IsZero() {
			e.Time = received.Add(-time.Minute)
		}
		b.Entries = append(b.Entries, e)
	}
	if _, err := s.SaveBatch(tb.Context(), b, received); err != nil {
		tb.Fatal(err)
	}
}
