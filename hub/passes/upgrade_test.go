package passes

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatepost/gatepost/internal/clock"
	"github.com/gatepost/gatepost/internal/storeversion"
	"github.com/gatepost/gatepost/internal/storeversion/storeversiontest"
	"github.com/gatepost/gatepost/protocol"
)

// The upgrade fixture: testdata/passes-v0.db is a passes.db written by
// the build before passes.db had a schema version (main at 920fa48,
// December 2026), testdata/passes-v0-keys/ the private keys of its data
// folder, and testdata/passes-v0.json what that build read back from it
// (upgradeView). They were made once, by
//
//	go test ./hub/passes -run TestMakeUpgradeFixture -args -make-fixture
//
// at 920fa48, whose passes.db had no version (0); the generator names its
// files by SchemaVersion now, so a later run adds passes-v<N>.db beside
// them. They are never rewritten: they stand for what an older release
// wrote. The keys are test keys made for the fixture, nothing else.

// upgradeNow is the fixture's clock: issuing, rotation, and the moment
// its view was read.
var upgradeNow = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func TestMakeUpgradeFixture(t *testing.T) {
	name := fmt.Sprintf("passes-v%d", SchemaVersion())
	path := storeversiontest.Fixture(t, name+".db")
	dir := t.TempDir()
	c := clock.NewFake(upgradeNow.Add(-48 * time.Hour))
	s, err := Open(dir, c)
	if err != nil {
		t.Fatal(err)
	}
	fillUpgradeFixture(t, s, c)
	view := upgradeView(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, DBFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	keys, err := os.ReadDir(filepath.Join(dir, KeysDir))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join("testdata", name+"-keys"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		b, err := os.ReadFile(filepath.Join(dir, KeysDir, k.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("testdata", name+"-keys", k.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	storeversiontest.WriteView(t, name+".json", view)
}

// fillUpgradeFixture stores what a hub's pass store holds after a while:
// three keys (the first withdrawn, the second retired), passes of every
// kind at two compounds, one revoked, one under home observation, one
// whose observation was cleared, and one expired.
func fillUpgradeFixture(tb testing.TB, s *Store, c *clock.Fake) {
	tb.Helper()
	ctx := tb.Context()
	must := func(err error) {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
	}
	issue := func(kind protocol.PassKind, site, unit, name string, days int) Pass {
		tb.Helper()
		p, err := s.Issue(ctx, Request{Kind: kind, Site: site, Unit: unit, Name: name,
			ValidFrom: c.Now().Add(-time.Hour), ValidUntil: c.Now().AddDate(0, 0, days)})
		must(err)
		return p
	}
	first, err := s.InitKey(ctx)
	must(err)
	issue(protocol.PassResident, "huamu-001", "3-1-202", "王小明", 1) // expired by upgradeNow
	issue(protocol.PassStaff, "huamu-001", "物业", "张保安", 180)
	c.Advance(12 * time.Hour)
	_, err = s.RotateKey(ctx)
	must(err)
	revoked := issue(protocol.PassTenant, "huamu-001", "5-2-301", "李租客", 90)
	observed := issue(protocol.PassResident, "huamu-001", "5-2-302", "欧阳小明", 180)
	cleared := issue(protocol.PassResident, "lianhua-002", "1-1-101", "赵六", 180)
	c.Advance(12 * time.Hour)
	_, err = s.RotateKey(ctx)
	must(err)
	issue(protocol.PassVolunteer, "lianhua-002", "志愿者", "陈志愿", 30)
	must(s.Revoke(ctx, revoked.ID, "moved out"))
	must(s.HomeObservation(ctx, observed.ID, upgradeNow.Add(7*24*time.Hour), "returned from Hubei"))
	must(s.HomeObservation(ctx, cleared.ID, upgradeNow.Add(7*24*time.Hour), "contact"))
	must(s.ClearStatus(ctx, cleared.ID))
	must(s.WithdrawKey(ctx, first.ID))
	c.Advance(upgradeNow.Sub(c.Now()))
}

// upgradeView is what the hub reads from its pass store: the keys and
// the key set, every pass, each compound's status list, the compounds,
// and the passes by state.
func upgradeView(tb testing.TB, s *Store) map[string]any {
	tb.Helper()
	ctx := context.Background()
	keys, err := s.Keys(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	set, err := s.KeySet(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	all, err := s.List(ctx, Filter{})
	if err != nil {
		tb.Fatal(err)
	}
	sites, err := s.Sites(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	lists := map[string]protocol.StatusList{}
	for _, site := range sites {
		if lists[site], err = s.StatusList(ctx, site); err != nil {
			tb.Fatal(err)
		}
	}
	states := map[State][]Pass{}
	for _, st := range []State{StateValid, StateRevoked, StateExpired, StateHomeObservation} {
		page, err := s.Search(ctx, Query{State: st, Now: upgradeNow}, 0, 50)
		if err != nil {
			tb.Fatal(err)
		}
		states[st] = page.Passes
	}
	return map[string]any{"keys": keys, "key_set": set, "passes": all, "sites": sites, "status_lists": lists, "by_state": states}
}

// copyFixture makes a hub data folder of the fixture name: its passes.db
// and its keys.
func copyFixture(t *testing.T, name string) string {
	t.Helper()
	dir := filepath.Dir(storeversiontest.Copy(t, name+".db", DBFile))
	keys, err := os.ReadDir(filepath.Join("testdata", name+"-keys"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, KeysDir), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		b, err := os.ReadFile(filepath.Join("testdata", name+"-keys", k.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, KeysDir, k.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestOpensOlderFiles opens each passes.db an older build wrote with this
// build: it is marked with the current version, reads back what the
// older build read (keys, passes, status lists), its passes still verify
// against its key set, and its current key still signs.
func TestOpensOlderFiles(t *testing.T) {
	for _, name := range storeversiontest.Fixtures(t, "passes-v*.db") {
		t.Run(name, func(t *testing.T) {
			dir := copyFixture(t, name)
			c := clock.NewFake(upgradeNow)
			s, err := Open(dir, c)
			if err != nil {
				t.Fatalf("Open(%s) = %v", name, err)
			}
			defer s.Close()
			path := filepath.Join(dir, DBFile)
			if v := storeversiontest.Version(t, path); v != SchemaVersion() {
				t.Errorf("%s is at version %d after Open, want %d", name, v, SchemaVersion())
			}
			storeversiontest.SameView(t, name+".json", upgradeView(t, s))
			ctx := t.Context()
			set, err := s.KeySet(ctx)
			if err != nil {
				t.Fatal(err)
			}
			all, err := s.List(ctx, Filter{})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range all {
				sp, err := protocol.ParsePass(p.Token)
				if err != nil {
					t.Fatalf("pass %s: %v", p.ID, err)
				}
				k := set.Find(sp.Key)
				verified := k != nil && sp.Verify(k.Key)
				if withdrawn := p.Key == "k1"; verified == withdrawn {
					t.Errorf("pass %s (key %s) after the upgrade: verifies against the key set %v, want %v", p.ID, p.Key, verified, !withdrawn)
				}
			}
			p, err := s.Issue(ctx, Request{Kind: protocol.PassResident, Site: "huamu-001", Unit: "9-9-909", Name: "新住户",
				ValidFrom: upgradeNow, ValidUntil: upgradeNow.AddDate(0, 1, 0)})
			if err != nil || p.Key != "k3" {
				t.Fatalf("Issue after the upgrade = %+v, %v; want a pass signed by k3", p, err)
			}
		})
	}
}

// TestRefusesNewerFile opens a passes.db whose schema version is above
// what this build knows: refused with both versions and what to do, and
// the data folder is left byte for byte as it was.
func TestRefusesNewerFile(t *testing.T) {
	names := storeversiontest.Fixtures(t, "passes-v*.db")
	dir := copyFixture(t, names[len(names)-1])
	path := filepath.Join(dir, DBFile)
	newer := SchemaVersion() + 1
	// A newer hub might drop a table; this one must not make it again.
	storeversiontest.Exec(t, path, `DROP TABLE versions`)
	storeversiontest.SetVersion(t, path, newer)
	before := storeversiontest.Snapshot(t, dir)
	s, err := Open(dir, nil)
	if err == nil {
		s.Close()
		t.Fatalf("Open(passes.db at version %d) succeeded; want it refused", newer)
	}
	want := fmt.Sprintf("passes.db is at schema version %d but this hub knows versions up to %d: "+
		"it was written by a newer gatepost; install that version again (or restore a backup made by this one)", newer, SchemaVersion())
	if !errors.Is(err, storeversion.ErrNewer) || !strings.Contains(err.Error(), want) {
		t.Fatalf("Open(passes.db at version %d) = %v; want ErrNewer saying %q", newer, err, want)
	}
	storeversiontest.Unchanged(t, dir, before)
}
