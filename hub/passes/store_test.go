package passes

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatepost/gatepost/internal/clock"
	"github.com/gatepost/gatepost/internal/pgtest"
	"github.com/gatepost/gatepost/protocol"
)

var t0 = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

// testEngine is one of the store's two engines for the tests.
type testEngine struct {
	name string
	// dsn names a new, empty store's tables for OpenDatabase; dir is the
	// data folder.
	dsn func(t *testing.T, dir string) string
}

// engines are the store's two engines: a new SQLite file in the data
// folder, a new PostgreSQL database (internal/pgtest).
func engines() []testEngine {
	return []testEngine{
		{"sqlite", func(t *testing.T, dir string) string { return filepath.Join(dir, DBFile) }},
		{"postgres", func(t *testing.T, dir string) string { return pgtest.Database(t) }},
	}
}

// eachEngine runs f on each engine, as a subtest named after it.
func eachEngine(t *testing.T, f func(t *testing.T, e testEngine)) {
	for _, e := range engines() {
		t.Run(e.name, func(t *testing.T) { f(t, e) })
	}
}

// open opens a new, empty store on e in a new data folder, with a fake
// clock at t0; it is closed when t ends.
func (e testEngine) open(t *testing.T) (*Store, *clock.Fake, string) {
	t.Helper()
	s, c, dir, _ := e.openShared(t)
	return s, c, dir
}

// openShared is open, and also names the store's database, for a second
// store on it (as another hub would open it).
func (e testEngine) openShared(t *testing.T) (s *Store, c *clock.Fake, dir, dsn string) {
	t.Helper()
	dir = t.TempDir()
	c = clock.NewFake(t0)
	dsn = e.dsn(t, dir)
	return openAt(t, dsn, dir, c), c, dir, dsn
}

// openAt opens the store dsn names with its keys in dir, closed when t
// ends.
func openAt(t *testing.T, dsn, dir string, c clock.Clock) *Store {
	t.Helper()
	s, err := OpenDatabase(t.Context(), dsn, dir, c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// open opens a new, empty store on SQLite: for the tests of what the
// engine does not touch.
func open(t *testing.T) (*Store, *clock.Fake, string) {
	t.Helper()
	return engines()[0].open(t)
}

func request(unit, name string) Request {
	return Request{Kind: protocol.PassResident, Site: "huamu-1", Unit: unit, Name: name, ValidFrom: t0, ValidUntil: t0.AddDate(0, 6, 0)}
}

func TestMaskName(t *testing.T) {
	for in, want := range map[string]string{
		"王小明": "王*明", "李明": "李*", "欧阳小明": "欧**明", "王": "王", "": "", "王*明": "王*明",
		"Wang Xiaoming": "W***g", " 张\t三丰\n": "张**丰", "司马相如之后人士": "司***士",
	} {
		if got := MaskName(in); got != want {
			t.Errorf("MaskName(%q) = %q, want %q", in, got, want)
		}
	}
	if got := MaskName(strings.Repeat("*", 40)); len(got) > protocol.MaxPassName {
		t.Errorf("MaskName(40 stars) is %d bytes, over %d", len(got), protocol.MaxPassName)
	}
}

func TestIssueNeedsKey(t *testing.T) { eachEngine(t, testIssueNeedsKey) }

func testIssueNeedsKey(t *testing.T, e testEngine) {
	s, _, _ := e.open(t)
	ctx := context.Background()
	if _, err := s.Issue(ctx, request("3-502", "王小明")); !errors.Is(err, ErrNoKey) {
		t.Fatalf("Issue without key = %v, want ErrNoKey", err)
	}
	if _, err := s.RotateKey(ctx); !errors.Is(err, ErrNoKey) {
		t.Fatalf("RotateKey without key = %v, want ErrNoKey", err)
	}
	if _, err := s.InitKey(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.InitKey(ctx); !errors.Is(err, ErrKeyExists) {
		t.Fatalf("second InitKey = %v, want ErrKeyExists", err)
	}
}

// TestIssueVerifyRotate issues a pass, checks it verifies with the key
// set, rotates, and checks that the old key stays accepted until the old
// pass expires while new passes use the new key.
func TestIssueVerifyRotate(t *testing.T) { eachEngine(t, testIssueVerifyRotate) }

func testIssueVerifyRotate(t *testing.T, e testEngine) {
	s, c, dir := e.open(t)
	ctx := context.Background()
	k1, err := s.InitKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(dir, KeysDir, k1.ID+".key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("private key file: %v %v, want mode 0600", fi, err)
	}
	p1, err := s.Issue(ctx, request("3-502", "王小明"))
	if err != nil {
		t.Fatal(err)
	}
	if p1.Name != "王*明" || p1.Key != "k1" || !strings.HasPrefix(p1.ID, "R") || len(p1.ID) != 8 {
		t.Errorf("issued %+v", p1.Pass)
	}
	verify := func(p Pass) *protocol.PublicKey {
		t.Helper()
		ks, err := s.KeySet(ctx)
		if err != nil {
			t.Fatal(err)
		}
		sp, err := protocol.ParsePass(p.Token)
		if err != nil {
			t.Fatal(err)
		}
		k := ks.Find(sp.Key)
		if k == nil || !sp.Verify(k.Key) {
			t.Fatalf("pass %s does not verify with key set %+v", p.ID, ks)
		}
		return k
	}
	verify(p1)
	ks1, _ := s.KeySet(ctx)

	c.Set(t0.Add(24 * time.Hour))
	k2, err := s.RotateKey(ctx)
	if err != nil || k2.ID != "k2" {
		t.Fatalf("RotateKey = %+v, %v", k2, err)
	}
	old := verify(p1)
	if old.Retired == nil || old.NotAfter == nil || !old.NotAfter.Equal(p1.ValidUntil) {
		t.Errorf("retired k1 = %+v, want not_after = the pass's end %s", old, p1.ValidUntil)
	}
	p2, err := s.Issue(ctx, request("3-503", "李明"))
	if err != nil || p2.Key != "k2" {
		t.Fatalf("after rotation issued with %q, %v, want k2", p2.Key, err)
	}
	verify(p2)
	if ks2, _ := s.KeySet(ctx); ks2.Version <= ks1.Version || len(ks2.Keys) != 2 {
		t.Errorf("key set after rotation: version %d (was %d), %d keys", ks2.Version, ks1.Version, len(ks2.Keys))
	}
	keys, _ := s.Keys(ctx)
	if len(keys) != 2 || keys[0].Current || !keys[1].Current || keys[0].Passes != 1 {
		t.Errorf("Keys = %+v", keys)
	}
	// A leaked key is withdrawn: out of the key set; the current one cannot be.
	if err := s.WithdrawKey(ctx, "k2"); !errors.Is(err, ErrBadRequest) {
		t.Errorf("WithdrawKey(current) = %v, want ErrBadRequest", err)
	}
	if err := s.WithdrawKey(ctx, "k1"); err != nil {
		t.Fatal(err)
	}
	if ks, _ := s.KeySet(ctx); ks.Find("k1") != nil || ks.Find("k2") == nil {
		t.Errorf("key set after withdrawing k1: %+v", ks)
	}
	// A damaged private key file is refused, not used.
	os.WriteFile(filepath.Join(dir, KeysDir, "k2.key"), []byte(strings.Repeat("ab", 32)), 0o600)
	if _, err := s.Issue(ctx, request("1-101", "x")); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Errorf("Issue with a swapped key file = %v", err)
	}
}

func TestStatusList(t *testing.T) { eachEngine(t, testStatusList) }

func testStatusList(t *testing.T, e testEngine) {
	s, c, _ := e.open(t)
	ctx := context.Background()
	s.InitKey(ctx)
	a, _ := s.Issue(ctx, request("3-502", "王小明"))
	b, _ := s.Issue(ctx, request("3-503", "李明"))
	other := request("1-101", "赵六")
	other.Site = "huamu-2"
	o, _ := s.Issue(ctx, other)
	if sites, err := s.Sites(ctx); err != nil || !slices.Equal(sites, []string{"huamu-1", "huamu-2"}) {
		t.Errorf("Sites = %v, %v", sites, err)
	}
	l0, err := s.StatusList(ctx, "huamu-1")
	if err != nil || len(l0.Entries) != 0 || l0.Version != 1 || !strings.Contains(l0.Site, "huamu") {
		t.Fatalf("empty list = %+v, %v", l0, err)
	}
	if err := s.Revoke(ctx, a.ID, "reported lost"); err != nil {
		t.Fatal(err)
	}
	if err := s.HomeObservation(ctx, b.ID, t0.Add(14*24*time.Hour), ""); err != nil {
		t.Fatal(err)
	}
	if err := s.Revoke(ctx, o.ID, "moved out"); err != nil {
		t.Fatal(err)
	}
	if err := s.Revoke(ctx, "R0000000", ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("Revoke(unknown) = %v, want ErrNotFound", err)
	}
	if err := s.HomeObservation(ctx, b.ID, t0.Add(-time.Hour), ""); !errors.Is(err, ErrBadRequest) {
		t.Errorf("HomeObservation ending in the past = %v", err)
	}
	if err := s.Revoke(ctx, a.ID, "\x1b[2J"); !errors.Is(err, ErrBadRequest) {
		t.Errorf("Revoke with an escape sequence = %v", err)
	}
	l1, err := s.StatusList(ctx, "huamu-1")
	if err != nil {
		t.Fatal(err)
	}
	if l1.Version <= l0.Version || len(l1.Entries) != 2 {
		t.Fatalf("list = %+v, want 2 entries and a higher version than %d", l1, l0.Version)
	}
	if e := l1.Find(a.ID); e == nil || e.Status != protocol.StatusRevoked || e.Reason != "reported lost" {
		t.Errorf("entry for %s = %+v", a.ID, e)
	}
	if e := l1.Find(b.ID); e == nil || e.Status != protocol.StatusHomeObservation || e.Until == nil {
		t.Errorf("entry for %s = %+v", b.ID, e)
	}
	// Home observation ends by itself; cleared status drops out.
	c.Set(t0.Add(15 * 24 * time.Hour))
	if err := s.ClearStatus(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	l2, _ := s.StatusList(ctx, "huamu-1")
	if len(l2.Entries) != 0 || l2.Version <= l1.Version {
		t.Errorf("after the end and a clear: %+v", l2)
	}
	if _, err := protocol.EncodeStatusList(l2); err != nil {
		t.Errorf("status list does not encode: %v", err)
	}
}

func TestIssueCSV(t *testing.T) { eachEngine(t, testIssueCSV) }

func testIssueCSV(t *testing.T, e testEngine) {
	s, _, _ := e.open(t)
	ctx := context.Background()
	s.InitKey(ctx)
	def := request("", "")
	csv := "\ufeffunit,name,kind,valid_until\n3-502,王小明,,\n3-503,李明,tenant,2026-12-31\n,张三,volunteer,\n"
	list, err := s.IssueCSV(ctx, strings.NewReader(csv), def, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 3 || list[1].Kind != protocol.PassTenant || !list[1].ValidUntil.Equal(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)) ||
		list[2].Kind != protocol.PassVolunteer || list[0].Name != "王*明" {
		t.Errorf("IssueCSV = %+v", list)
	}
	for _, bad := range []string{
		"name\n王小明\n",                             // no unit column
		"unit,name\n,王小明\n",                       // resident without unit
		"unit,name,kind\n3-1,王,visitor\n",         // unknown kind
		"unit,name,valid_until\n3-1,王,tomorrow\n", // bad date
		"unit,name\n3-1,\"unterminated\n",         // bad CSV
	} {
		before, _ := s.List(ctx, Filter{})
		if _, err := s.IssueCSV(ctx, strings.NewReader(bad), def, time.UTC); !errors.Is(err, ErrBadRequest) && !errors.Is(err, ErrNotFound) {
			t.Errorf("IssueCSV(%q) = %v, want ErrBadRequest", bad, err)
		}
		if after, _ := s.List(ctx, Filter{}); len(after) != len(before) {
			t.Errorf("IssueCSV(%q) issued %d passes despite the error", bad, len(after)-len(before))
		}
	}
	got, err := s.List(ctx, Filter{Site: "huamu-1", IDs: []string{list[0].ID}})
	if err != nil || len(got) != 1 || got[0].Token != list[0].Token {
		t.Errorf("List(one id) = %+v, %v", got, err)
	}
	if _, err := s.List(ctx, Filter{IDs: []string{"R0000000"}}); !errors.Is(err, ErrNotFound) {
		t.Errorf("List(unknown id) = %v", err)
	}
}

func TestExportKiosk(t *testing.T) { eachEngine(t, testExportKiosk) }

func testExportKiosk(t *testing.T, e testEngine) {
	s, _, _ := e.open(t)
	ctx := context.Background()
	s.InitKey(ctx)
	p, _ := s.Issue(ctx, request("3-502", "王小明"))
	s.Revoke(ctx, p.ID, "lost")
	out := filepath.Join(t.TempDir(), "kiosk")
	if _, _, err := s.ExportKiosk(ctx, "huamu-1", out); err != nil {
		t.Fatal(err)
	}
	keys, _ := os.ReadFile(filepath.Join(out, KeysFile))
	if ks, err := protocol.DecodeKeySet(keys); err != nil || len(ks.Keys) != 1 {
		t.Errorf("keys.json = %s, %v", keys, err)
	}
	list, _ := os.ReadFile(filepath.Join(out, StatusListFile))
	if sl, err := protocol.DecodeStatusList(list); err != nil || sl.Find(p.ID) == nil {
		t.Errorf("status-list.json = %s, %v", list, err)
	}
}
