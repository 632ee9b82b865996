package operators

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestOpensOldFile opens a console.db made by the hub before scopes
// (testdata/console-v0.db: users admin and alice, a sign-in, an alert and
// alice's API token "script") and checks it migrates and keeps working.
func TestOpensOldFile(t *testing.T) {
	data, err := os.ReadFile("testdata/console-v0.db")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), FileName)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	for i := range 2 { // the second open finds it migrated already
		s, err := Open(path, nil)
		if err != nil {
			t.Fatalf("Open(old console.db) = %v", err)
		}
		ctx := t.Context()
		u, err := s.Authenticate(ctx, "alice", "alice-password-1")
		if err != nil || u.Admin || u.AllSites() != (i == 0) {
			t.Fatalf("Authenticate(alice) = %+v, %v; want an operator seeing every compound, then east alone", u, err)
		}
		if a, err := s.Alerts(ctx, 10); err != nil || len(a) != 1 || a[0].Site != "east" {
			t.Errorf("Alerts = %+v, %v; want the old fever alert", a, err)
		}
		if toks, err := s.Tokens(ctx); err != nil || len(toks) != 1 || toks[0].User != "alice" {
			t.Errorf("Tokens = %+v, %v; want alice's token", toks, err)
		}
		if err := s.SetScope(ctx, "alice", []string{"east"}); err != nil {
			t.Errorf("SetScope on a migrated file = %v", err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestScopesAndLeads(t *testing.T) {
	onEngines(t, func(t *testing.T, e testEngine) {
		s := e.open(t, nil)
		ctx := t.Context()
		for _, u := range []struct {
			name  string
			admin bool
		}{{"boss", true}, {"li", false}} {
			if err := s.AddUser(ctx, u.name, "a-long-password", u.admin); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.SetScope(ctx, "boss", []string{"east"}); !errors.Is(err, ErrBadScope) {
			t.Errorf("SetScope(admin) = %v, want ErrBadScope", err)
		}
		if err := s.SetScope(ctx, "li", []string{"east", "bad site"}); !errors.Is(err, ErrBadScope) {
			t.Errorf("SetScope(bad name) = %v, want ErrBadScope", err)
		}
		if err := s.SetScope(ctx, "nobody", []string{"east"}); !errors.Is(err, ErrNoUser) {
			t.Errorf("SetScope(nobody) = %v, want ErrNoUser", err)
		}
		if err := s.SetScope(ctx, "li", CleanList(" west, east,,east")); err != nil {
			t.Fatal(err)
		}
		token, _, err := s.StartSession(ctx, User{Name: "li"})
		if err != nil {
			t.Fatal(err)
		}
		sess, err := s.Session(ctx, token)
		if err != nil || !slices.Equal(sess.User.Sites, []string{"east", "west"}) || sess.User.AllSites() ||
			!sess.User.SeesSite("west") || sess.User.SeesSite("north") {
			t.Errorf("Session = %+v, %v; want li scoped to east and west", sess, err)
		}
		if err := s.AddLead(ctx, "zhao", "a-long-password", "east", []string{"3", "5"}); err != nil {
			t.Fatal(err)
		}
		lead, err := s.Authenticate(ctx, "zhao", "a-long-password")
		if err != nil || lead.Role() != RoleBuildingLead || !lead.SeesBuilding("east", "3") || lead.SeesBuilding("east", "4") ||
			lead.SeesBuilding("west", "3") || lead.AllSites() {
			t.Errorf("lead = %+v, %v; want buildings 3 and 5 of east", lead, err)
		}
		if err := s.AddLead(ctx, "qian", "a-long-password", "east", nil); !errors.Is(err, ErrBadScope) {
			t.Errorf("AddLead(no buildings) = %v, want ErrBadScope", err)
		}
		if err := s.SetAdmin(ctx, "zhao", false); err != nil {
			t.Fatal(err)
		}
		if u, _ := s.User(ctx, "zhao"); u.Lead || !u.AllSites() {
			t.Errorf("after SetAdmin(false) zhao = %+v, want a plain operator", u)
		}
		dev, err := s.AddDevice(ctx, "li")
		if err != nil {
			t.Fatal(err)
		}
		if !s.KnownDevice(ctx, dev, "li") || s.KnownDevice(ctx, dev, "boss") || s.KnownDevice(ctx, "", "li") {
			t.Errorf("KnownDevice does not bind the cookie to its user")
		}
		if a, err := s.AlertsIn(ctx, []string{}, 10); err != nil || a != nil {
			t.Errorf("AlertsIn(no sites) = %v, %v; want none", a, err)
		}
	})
}

// FuzzCleanList: any text gives trimmed, non-empty, sorted, distinct
// items, and never panics; SetScope's check refuses what is not a name.
func FuzzCleanList(f *testing.F) {
	for _, s := range []string{"", "a,b", " huamu-2, huamu-1,,huamu-1", ",,,", "3,5", "bad site,ok", "\x00,é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		list := CleanList(s)
		for i, x := range list {
			if x == "" || x != strings.TrimSpace(x) || strings.Contains(x, ",") {
				t.Fatalf("CleanList(%q) has item %q", s, x)
			}
			if i > 0 && list[i-1] >= x {
				t.Fatalf("CleanList(%q) = %q, not sorted and distinct", s, list)
			}
		}
		if err := checkList("compound", list, sitePattern); err == nil {
			for _, x := range list {
				if !sitePattern.MatchString(x) {
					t.Fatalf("checkList passed %q", x)
				}
			}
		}
	})
}
