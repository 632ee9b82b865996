package daemon

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/gatepost/gatepost/kiosk/checkpoint"
	"github.com/gatepost/gatepost/kiosk/config"
	"github.com/gatepost/gatepost/protocol"
)

// openGate opens a daemon on simulated devices (not run: the test calls
// its forms directly) with a fresh key set and status list in its data
// folder, and returns it with a function signing passes of that key.
func openGate(t *testing.T) (*Daemon, func(id string, kind protocol.PassKind) string) {
	t.Helper()
	cfg := config.Default()
	cfg.Site, cfg.DataDir = "huamu-1", t.TempDir()
	cfg.Screen.Listen = "127.0.0.1:0"
	cfg.Scanner.SimulateEvery = config.Duration(time.Hour)
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	now := time.Now().UTC().Truncate(time.Second)
	keys, err := protocol.EncodeKeySet(protocol.KeySet{Version: 1, Issued: now, Keys: []protocol.PublicKey{{ID: "k1", Key: pub, Created: now}}})
	if err != nil {
		t.Fatal(err)
	}
	list, err := protocol.EncodeStatusList(protocol.StatusList{Site: "huamu-1", Version: 1, Issued: now, Entries: []protocol.StatusEntry{}})
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(cfg.DataDir, "keys.json"), keys, 0o644)
	os.WriteFile(filepath.Join(cfg.DataDir, "status-list.json"), list, 0o644)
	d, err := Open(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.ln.Close(); d.devices.Close(); d.journal.Close() })
	sign := func(id string, kind protocol.PassKind) string {
		text, err := protocol.SignPass(protocol.Pass{Key: "k1", ID: id, Kind: kind, Site: "huamu-1", Unit: "1-101", Name: "李*",
			ValidFrom: now.Add(-time.Hour), ValidUntil: now.Add(24 * time.Hour)}, priv)
		if err != nil {
			t.Fatal(err)
		}
		return text
	}
	return d, sign
}

// TestForms runs a shift at the gate through the daemon's forms and checks
// that every one is a journal entry with the guards on post.
func TestForms(t *testing.T) {
	d, sign := openGate(t)
	ctx := context.Background()
	vol, staff := sign("V0000001", protocol.PassVolunteer), sign("S0000001", protocol.PassStaff)
	reading := &protocol.Reading{ObjectC: 36.5, ScreenedC: 36.5}
	visitor := protocol.Visitor{Name: "陈先生", Contact: "13800000000", From: "浦东", Visiting: "5-101", Purpose: "送药"}

	steps := []struct {
		name string
		do   func() (checkpoint.Outcome, error)
	}{
		{"volunteer signs in", func() (checkpoint.Outcome, error) { return d.SignIn(ctx, vol) }},
		{"resident cannot sign in", func() (checkpoint.Outcome, error) { return d.SignIn(ctx, sign("R0000001", protocol.PassResident)) }},
		{"staff signs in", func() (checkpoint.Outcome, error) { return d.SignIn(ctx, staff) }},
		{"delivery", func() (checkpoint.Outcome, error) { return d.RecordDelivery(ctx, 2) }},
		{"disinfection", func() (checkpoint.Outcome, error) { return d.RecordDisinfection(ctx, "lift_buttons", staff) }},
		{"visitor", func() (checkpoint.Outcome, error) { return d.RegisterVisitor(ctx, visitor, reading) }},
		{"incomplete visitor", func() (checkpoint.Outcome, error) {
			return d.RegisterVisitor(ctx, protocol.Visitor{Name: "x\x1b[2J"}, reading)
		}},
		{"volunteer signs out", func() (checkpoint.Outcome, error) { return d.SignOut(ctx, vol) }},
	}
	for _, s := range steps {
		if _, err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
	}
	d.record(ctx, "hello\xff", reading)
	d.commit(ctx, protocol.Entry{Time: time.Now(), Kind: protocol.KindCheck}, checkpoint.UnreadableScan(), "", nil)

	es, err := d.journal.Unsent(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		kind    protocol.Kind
		reasons []string
		onPost  []string
		check   func(e protocol.Entry) bool
	}{
		{protocol.KindShiftIn, []string{"shift_in", "post_understaffed"}, []string{"V0000001"}, func(e protocol.Entry) bool { return e.Pass == "V0000001" }},
		{protocol.KindShiftIn, []string{"not_guard_pass"}, []string{"V0000001"}, func(e protocol.Entry) bool { return e.Decision == protocol.DecisionDeny }},
		{protocol.KindShiftIn, []string{"shift_in"}, []string{"S0000001", "V0000001"}, nil},
		{protocol.KindDelivery, []string{"parcel_at_drop_point"}, []string{"S0000001", "V0000001"}, func(e protocol.Entry) bool { return e.Count == 2 }},
		{protocol.KindDisinfection, []string{"disinfected"}, []string{"S0000001", "V0000001"}, func(e protocol.Entry) bool { return e.Area == "lift_buttons" && e.Pass == "S0000001" }},
		{protocol.KindVisitor, []string{"visitors_not_admitted", "visitor", "temperature_normal"}, []string{"S0000001", "V0000001"},
			func(e protocol.Entry) bool {
				return e.Visitor != nil && e.Visitor.Name == "陈先生" && e.Unit == "5-101"
			}},
		{protocol.KindVisitor, []string{"visitor_incomplete"}, []string{"S0000001", "V0000001"}, func(e protocol.Entry) bool { return e.Visitor == nil }},
		{protocol.KindShiftOut, []string{"shift_out", "post_understaffed"}, []string{"S0000001"}, nil},
		{protocol.KindCheck, []string{"pass_not_a_pass", "temperature_normal"}, []string{"S0000001"}, func(e protocol.Entry) bool { return e.Scan == "hello\ufffd" }},
		{protocol.KindCheck, []string{"scan_unreadable"}, []string{"S0000001"}, func(e protocol.Entry) bool { return e.Scan == "" }},
	}
	if len(es) != len(want) {
		t.Fatalf("journal holds %d entries, want %d: %+v", len(es), len(want), es)
	}
	for i, w := range want {
		e := es[i]
		if e.Kind != w.kind || !slices.Equal(e.Reasons, w.reasons) || !slices.Equal(e.OnPost, w.onPost) || (w.check != nil && !w.check(e)) {
			t.Errorf("entry %d = %s %s %v on post %v %+v, want %s %v on post %v", i+1, e.Kind, e.Decision, e.Reasons, e.OnPost, e, w.kind, w.reasons, w.onPost)
		}
	}
	if w := d.PostWarning(); w == "" {
		t.Error("one guard on post gives no warning")
	}
	if last := d.screen.State().Last; last == nil || last.Say == "" {
		t.Errorf("screen shows %+v, want the rules' sentence", last)
	}
}
