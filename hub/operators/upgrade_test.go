package operators

import (
	"encoding/json"
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
)

// The upgrade fixtures: testdata/console-v<N>.db is a console.db written
// by the build whose schema version was N, and testdata/console-v<N>.json
// what that build read back from it (upgradeView) with the secrets it
// handed out (cookies, API tokens, passwords: test values made for the
// fixture). console-v1.db was made once, by main at 920fa48 (December
// 2026), with
//
//	go test ./hub/operators -run TestMakeUpgradeFixture -args -make-fixture
//
// and is never rewritten: it stands for what an older release wrote.
// console-v0.db is older still: the console.db of the hub before scopes,
// kept by hand (TestOpensOldFile).

// upgradeNow is the fixture's clock.
var upgradeNow = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// upgradeSecrets are what the fixture's build handed out: a person or a
// script holds them, the file only their hashes.
type upgradeSecrets struct {
	Passwords map[string]string `json:"passwords"`
	Sessions  map[string]string `json:"sessions"` // user -> cookie value
	Devices   map[string]string `json:"devices"`  // user -> known-device cookie
	Tokens    map[string]string `json:"tokens"`   // label -> API token
}

func TestMakeUpgradeFixture(t *testing.T) {
	path := storeversiontest.Fixture(t, fmt.Sprintf("console-v%d.db", SchemaVersion()))
	s, err := Open(path, clock.NewFake(upgradeNow))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	secrets := fillUpgradeFixture(t, s)
	storeversiontest.WriteView(t, fmt.Sprintf("console-v%d.json", SchemaVersion()),
		map[string]any{"secrets": secrets, "view": upgradeView(t, s, secrets)})
}

// fillUpgradeFixture stores what a console.db holds after a while: an
// admin, an operator scoped to one compound, a building lead, a disabled
// user; sessions and a known device; API tokens, one revoked; alerts
// open, acknowledged and closed; the audit log; settings and retention.
func fillUpgradeFixture(tb testing.TB, s *Store) upgradeSecrets {
	tb.Helper()
	ctx := tb.Context()
	must := func(err error) {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
	}
	sec := upgradeSecrets{
		Passwords: map[string]string{"admin": "admin-password-1", "alice": "alice-password-1", "lead": "lead-password-1", "gone": "gone-password-1"},
		Sessions:  map[string]string{}, Devices: map[string]string{}, Tokens: map[string]string{},
	}
	must(s.AddUser(ctx, "admin", sec.Passwords["admin"], true))
	must(s.AddUser(ctx, "alice", sec.Passwords["alice"], false))
	must(s.SetScope(ctx, "alice", []string{"huamu-001"}))
	must(s.AddLead(ctx, "lead", sec.Passwords["lead"], "huamu-001", []string{"3", "5"}))
	must(s.AddUser(ctx, "gone", sec.Passwords["gone"], false))
	must(s.SetDisabled(ctx, "gone", true))
	for _, name := range []string{"admin", "alice"} {
		u, err := s.User(ctx, name)
		must(err)
		tok, _, err := s.StartSession(ctx, u)
		must(err)
		sec.Sessions[name] = tok
		must(s.Audit(ctx, name, "sign_in", ""))
	}
	dev, err := s.AddDevice(ctx, "alice")
	must(err)
	sec.Devices["alice"] = dev
	for _, label := range []string{"script", "old"} {
		tok, err := s.AddToken(ctx, label, "alice")
		must(err)
		sec.Tokens[label] = tok
	}
	must(s.RevokeToken(ctx, "old"))
	if _, _, err := s.TokenSession(ctx, sec.Tokens["script"]); err != nil {
		tb.Fatal(err)
	}
	for i, a := range []Alert{
		{Key: "entry:gate-1:5", Kind: "fever", Site: "huamu-001", Kiosk: "gate-1", Detail: "38.3 °C"},
		{Key: "entry:gate-1:11", Kind: "pass_revoked", Site: "huamu-001", Kiosk: "gate-1", Detail: "T0FXNV1R"},
		{Key: "fleet:gate-3:silent", Kind: "kiosk_silent", Site: "lianhua-002", Kiosk: "gate-3"},
	} {
		a.Raised = upgradeNow.Add(time.Duration(i-3) * time.Hour)
		if _, err := s.Raise(ctx, a); err != nil {
			tb.Fatal(err)
		}
	}
	alerts, err := s.Alerts(ctx, 10)
	must(err)
	for _, a := range alerts {
		switch a.Key {
		case "entry:gate-1:5":
			must(s.Move(ctx, a.ID, StateAcked, "alice", "sent home"))
		case "entry:gate-1:11":
			must(s.Move(ctx, a.ID, StateClosed, "admin", "card taken back"))
		}
	}
	must(s.Audit(ctx, "admin", "issue_pass", "R7SEW347"))
	must(s.SetSetting(ctx, "site.lianhua-002.test", "1"))
	must(s.SetRetention(ctx, "visitor", 14))
	return sec
}

// upgradeView is what the console reads from console.db: users, the
// sessions, device and tokens the secrets open, alerts, the audit log,
// settings and retention.
func upgradeView(tb testing.TB, s *Store, sec upgradeSecrets) map[string]any {
	tb.Helper()
	ctx := tb.Context()
	users, err := s.Users(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	sessions := map[string]Session{}
	for name, tok := range sec.Sessions {
		if sessions[name], err = s.Session(ctx, tok); err != nil {
			tb.Fatalf("Session(%s's cookie): %v", name, err)
		}
	}
	devices := map[string]bool{}
	for name, tok := range sec.Devices {
		devices[name] = s.KnownDevice(ctx, tok, name)
	}
	tokens, err := s.Tokens(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	tokenUsers := map[string]string{}
	for label, tok := range sec.Tokens {
		sess, _, err := s.TokenSession(ctx, tok) // records last use at the same fixed time
		tokenUsers[label] = sess.User.Name
		if err != nil {
			tokenUsers[label] = "refused"
		}
	}
	alerts, err := s.Alerts(ctx, 10)
	if err != nil {
		tb.Fatal(err)
	}
	audit, err := s.AuditLog(ctx, 50)
	if err != nil {
		tb.Fatal(err)
	}
	test, err := s.Setting(ctx, "site.lianhua-002.test", "")
	if err != nil {
		tb.Fatal(err)
	}
	retention, err := s.Retention(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	return map[string]any{"users": users, "sessions": sessions, "devices": devices, "tokens": tokens,
		"token_users": tokenUsers, "alerts": alerts, "audit": audit, "test_site": test, "retention": retention}
}

// TestOpensOlderFiles opens each console.db an older build wrote with
// this build: migrated to the current version, it reads back what the
// older build read, its passwords, cookies and tokens still work, and it
// takes new users.
func TestOpensOlderFiles(t *testing.T) {
	for _, name := range storeversiontest.Fixtures(t, "console-v*.json") {
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			var fixture struct {
				Secrets upgradeSecrets `json:"secrets"`
			}
			if err := json.Unmarshal(raw, &fixture); err != nil {
				t.Fatal(err)
			}
			path := storeversiontest.Copy(t, name+".db", FileName)
			s, err := Open(path, clock.NewFake(upgradeNow))
			if err != nil {
				t.Fatalf("Open(%s) = %v", name, err)
			}
			defer s.Close()
			if v := storeversiontest.Version(t, path); v != SchemaVersion() {
				t.Errorf("%s is at version %d after Open, want %d", name, v, SchemaVersion())
			}
			got := map[string]any{"secrets": fixture.Secrets, "view": upgradeView(t, s, fixture.Secrets)}
			storeversiontest.SameView(t, name+".json", got)
			ctx := t.Context()
			for user, password := range fixture.Secrets.Passwords {
				_, err := s.Authenticate(ctx, user, password)
				if wantRefused := user == "gone"; (err != nil) != wantRefused {
					t.Errorf("Authenticate(%s) after the upgrade = %v; refused: want %v", user, err, wantRefused)
				}
			}
			if err := s.AddUser(ctx, "newcomer", "newcomer-password-1", false); err != nil {
				t.Errorf("AddUser after the upgrade = %v", err)
			}
		})
	}
}

// TestRefusesNewerFile opens a console.db whose schema version is above
// what this build knows: refused with both versions and what to do, and
// the folder is left byte for byte as it was.
func TestRefusesNewerFile(t *testing.T) {
	names := storeversiontest.Fixtures(t, "console-v*.json")
	path := storeversiontest.Copy(t, names[len(names)-1]+".db", FileName)
	newer := SchemaVersion() + 1
	// A newer hub might drop a table; this one must not make it again.
	storeversiontest.Exec(t, path, `DROP TABLE api_tokens`)
	storeversiontest.SetVersion(t, path, newer)
	before := storeversiontest.Snapshot(t, filepath.Dir(path))
	s, err := Open(path, nil)
	if err == nil {
		s.Close()
		t.Fatalf("Open(console.db at version %d) succeeded; want it refused", newer)
	}
	want := fmt.Sprintf("console.db is at schema version %d but this hub knows versions up to %d: "+
		"it was written by a newer gatepost; install that version again (or restore a backup made by this one)", newer, SchemaVersion())
	if !errors.Is(err, storeversion.ErrNewer) || !strings.Contains(err.Error(), want) {
		t.Fatalf("Open(console.db at version %d) = %v; want ErrNewer saying %q", newer, err, want)
	}
	storeversiontest.Unchanged(t, filepath.Dir(path), before)
}
