package registry

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatepost/gatepost/hub/sqlstore"
	"github.com/gatepost/gatepost/internal/clock"
)

var makeV1 = flag.Bool("make-v1", false, "rewrite testdata/kiosks-v1.db and kiosks-v1.json (a kiosks.db as the hub made it before goose)")

// v1Made is the hub clock's time when testdata/kiosks-v1.db was made.
var v1Made = time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)

// v1Secrets are the secrets handed out while testdata/kiosks-v1.db was
// made (the file keeps only their hashes): the test of an upgraded file
// logs in and redeems with them.
type v1Secrets struct {
	Gate1, Gate2       Credentials // enrolled with a code, and offline
	Gate1Again, Gate5  string      // codes out: gate-1's re-enrollment, gate-5's first
	Gate4Expired, Used string      // gate-4's expired code, gate-1's spent one
}

// TestMakeKiosksV1 writes testdata/kiosks-v1.db: every kind of row the
// registry keeps, as the hub made the file before its store used goose.
// It runs only with -make-v1. The committed file was made by the code of
// that time (the commit that added it); run today, the generator removes
// what goose added since (its table, migration 2's index), which gives
// the same shape.
func TestMakeKiosksV1(t *testing.T) {
	if !*makeV1 {
		t.Skip("run with -make-v1 to rewrite testdata/kiosks-v1.db")
	}
	ctx := context.Background()
	c := clock.NewFake(v1Made)
	path := filepath.Join(t.TempDir(), FileName)
	s, err := OpenFile(ctx, path, c)
	if err != nil {
		t.Fatal(err)
	}
	var sec v1Secrets
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	// gate-1: enrolled with a code (spent), then a re-enrollment code out.
	sec.Used, _, err = s.NewCode(ctx, "huamu-1", "gate-1", 24*time.Hour)
	must(err)
	r, pub := request(sec.Used, "huamu-1", "gate-1", kioskKey(1))
	sec.Gate1, err = s.Redeem(ctx, r, pub)
	must(err)
	// gate-2: added offline by its key.
	sec.Gate2, err = s.Add(ctx, "huamu-1", "gate-2", kioskKey(2).Public().(ed25519.PublicKey))
	must(err)
	// gate-3: enrolled, a code out, then retired (the code spent by Retire).
	_, err = s.Add(ctx, "huamu-2", "gate-3", kioskKey(3).Public().(ed25519.PublicKey))
	must(err)
	_, _, err = s.NewCode(ctx, "huamu-2", "gate-3", time.Hour)
	must(err)
	must(s.Retire(ctx, "gate-3"))
	// gate-4: pending, its code expired.
	sec.Gate4Expired, _, err = s.NewCode(ctx, "huamu-2", "gate-4", time.Minute)
	must(err)
	c.Advance(2 * time.Minute)
	// gate-5: pending, its code good for 30 days; gate-1's new code too.
	sec.Gate5, _, err = s.NewCode(ctx, "huamu-2", "gate-5", 30*24*time.Hour)
	must(err)
	sec.Gate1Again, _, err = s.NewCode(ctx, "huamu-1", "gate-1", 30*24*time.Hour)
	must(err)
	// Transitions: huamu-2 for 60 days, huamu-3 for one (passed when the
	// upgrade test opens the file); a test site.
	must(s.SetTransition(ctx, "huamu-2", v1Made.Add(60*24*time.Hour)))
	must(s.SetTransition(ctx, "huamu-3", v1Made.Add(24*time.Hour)))
	must(s.SetTestSite(ctx, "demo-1", true))
	must(s.Close())
	db, err := sql.Open("sqlite", "file:"+path)
	must(err)
	_, err = db.Exec(`DROP TABLE IF EXISTS ` + sqlstore.VersionTable + `; DROP INDEX IF EXISTS enroll_codes_by_kiosk; VACUUM`)
	must(err)
	must(db.Close())

	data, err := os.ReadFile(path)
	must(err)
	must(os.WriteFile("testdata/kiosks-v1.db", data, 0o644))
	js, err := json.MarshalIndent(sec, "", "  ")
	must(err)
	must(os.WriteFile("testdata/kiosks-v1.json", append(js, '\n'), 0o644))
}
