package records

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatepost/gatepost/internal/clock"
	"github.com/gatepost/gatepost/internal/storeversion"
	"github.com/gatepost/gatepost/internal/storeversion/storeversiontest"
	"github.com/gatepost/gatepost/protocol"
	pt "github.com/gatepost/gatepost/protocol/protocoltest"
)

// The upgrade fixtures: testdata/hub-v<N>.db is a hub.db written by the
// build whose schema version was N, and testdata/hub-v<N>.json what that
// build read back from it through this package's API (upgradeView). Each
// was made once, by
//
//	go test ./hub/records -run TestMakeUpgradeFixture -args -make-fixture
//
// and is never rewritten: it stands for what an older release wrote.
// hub-v7.db was made by main at 920fa48 (December 2026).

// upgradeSite is the compound of the fixture's kiosks; a test site, so
// that its simulated entries are ones a real hub would have taken.
const upgradeSite = "huamu-001"

// upgradeT0 is the fixture's first receipt time.
var upgradeT0 = time.Date(2026, 3, 2, 7, 0, 0, 0, time.UTC)

func TestMakeUpgradeFixture(t *testing.T) {
	path := storeversiontest.Fixture(t, fmt.Sprintf("hub-v%d.db", len(migrations())))
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fillUpgradeFixture(t, s)
	storeversiontest.WriteView(t, fmt.Sprintf("hub-v%d.json", len(migrations())), upgradeView(t, s))
}

// fillUpgradeFixture stores what a hub holds after a while: a chained
// kiosk with every kind of entry (visitors, deliveries, shifts,
// disinfection, fevers, simulated entries), a gap and a conflict; a kiosk
// from before the chain; a kiosk's bundle imported; presence; downlinks;
// and purged visitors and scans.
func fillUpgradeFixture(tb testing.TB, s *SQLite) {
	tb.Helper()
	ctx := tb.Context()
	journal := "0190d6e4-7a4b-7cc0-8b8e-00000000a001"
	late := []protocol.Entry{
		pt.Entry(pt.Scan("GP1:resident:ZJ5"), pt.Celsius(36.3)),
		pt.Entry(pt.Scan("GP1:resident:ZJ6"), pt.Celsius(36.8)),
		pt.Entry(pt.Scan("GP1:resident:ZJ7"), pt.Celsius(36.9)),
	}
	gate1 := upgradeChain("gate-1", 1, append(upgradeEntries(), late...))
	save := func(b protocol.Batch, at time.Time) {
		if _, err := s.SaveBatch(ctx, b, at); err != nil {
			tb.Fatalf("SaveBatch(%s %d..): %v", b.Kiosk, b.Entries[0].Seq, err)
		}
	}
	// gate-1: everything but 13 and 14, which never arrive: a gap.
	save(protocol.Batch{Kiosk: "gate-1", Site: upgradeSite, Journal: journal, Sent: upgradeT0.Add(-2 * time.Second), Entries: gate1[:12]}, upgradeT0)
	save(protocol.Batch{Kiosk: "gate-1", Site: upgradeSite, Journal: journal, Sent: upgradeT0.Add(47 * time.Hour), Entries: gate1[14:]}, upgradeT0.Add(48*time.Hour))
	// A conflicting copy of entry 3 (another scan under the same number).
	bad := gate1[2]
	bad.Scan = "GP1:forged"
	if saved, err := s.SaveBatch(ctx, protocol.Batch{Kiosk: "gate-1", Site: upgradeSite, Journal: journal,
		Sent: upgradeT0.Add(49 * time.Hour), Entries: []protocol.Entry{bad}}, upgradeT0.Add(49*time.Hour)); err != nil || saved.Conflicts != 1 {
		tb.Fatalf("conflicting entry saved as %+v, %v; want one conflict", saved, err)
	}
	// gate-2: a kiosk from before the chain and journal ids.
	var old []protocol.Entry
	for i := range 3 {
		old = append(old, pt.Entry(pt.Kiosk("gate-2"), pt.Seq(uint64(i+1)), pt.At(upgradeT0.Add(time.Duration(i)*time.Minute)),
			pt.Scan(fmt.Sprintf("GP1:resident:%d", 100+i)), pt.Celsius(36.2+float64(i)/10)))
	}
	save(protocol.Batch{Kiosk: "gate-2", Site: upgradeSite, Sent: upgradeT0.Add(3 * time.Minute), Entries: old}, upgradeT0.Add(5*time.Minute))
	// gate-3: only known from an exported bundle carried to the hub.
	carried := upgradeChain("gate-3", 1, upgradeEntries()[:4])
	bundle := protocol.Bundle{Kiosk: "gate-3", Site: "lianhua-002", Journal: "0190d6e4-7a4b-7cc0-8b8e-00000000a003",
		From: 1, To: 4, Exported: upgradeT0.Add(24 * time.Hour), Entries: carried}
	sum, err := protocol.BundleChecksum(bundle.Entries)
	if err != nil {
		tb.Fatal(err)
	}
	bundle.SHA256 = sum
	s.Clock = clock.NewFake(upgradeT0.Add(25 * time.Hour))
	if _, err := s.ImportBundle(ctx, bundle); err != nil {
		tb.Fatalf("ImportBundle: %v", err)
	}
	for _, st := range []protocol.Status{
		{Kiosk: "gate-1", Site: upgradeSite, Online: true, Time: upgradeT0.Add(50 * time.Hour), Unsynced: 2,
			Failures: 1, Downlink: map[string]uint64{"config": 2, "keys": 1}, Session: "s-7"},
		{Kiosk: "gate-2", Site: upgradeSite, Online: false},
	} {
		if _, err := s.SaveStatus(ctx, st, upgradeT0.Add(50*time.Hour)); err != nil {
			tb.Fatalf("SaveStatus(%s): %v", st.Kiosk, err)
		}
	}
	for i, d := range []struct {
		kiosk   string
		kind    protocol.DownlinkKind
		payload string
	}{
		{"", protocol.DownlinkConfig, `{"fever_c":37.3}`},
		{"", protocol.DownlinkConfig, `{"fever_c":37.5}`},
		{"gate-1", protocol.DownlinkKeys, `{"keys":[]}`},
		{"", protocol.DownlinkStatusList, `{"issued":"2026-03-02T06:00:00Z","revoked":[]}`},
	} {
		if _, err := s.IssueDownlink(ctx, upgradeSite, d.kiosk, d.kind, json.RawMessage(d.payload), upgradeT0.Add(time.Duration(i)*time.Hour)); err != nil {
			tb.Fatalf("IssueDownlink(%s): %v", d.kind, err)
		}
	}
	// The first day's visitors and scans are past retention.
	for _, kind := range PurgeKinds {
		if n, err := s.Purge(ctx, kind, upgradeT0.Add(time.Hour), false); err != nil || n == 0 {
			tb.Fatalf("Purge(%s) = %d, %v; want some purged", kind, n, err)
		}
	}
}

// upgradeEntries is one of every kind of entry a kiosk makes.
func upgradeEntries() []protocol.Entry {
	guard := pt.Pass("V7K2M9Q4", "3-1-202")
	visitor := &protocol.Visitor{Name: "王小明", Contact: "13800000000", From: "上海", Visiting: "5-2-301", Purpose: "探亲"}
	returnee := &protocol.Visitor{Name: "李华", Visiting: "1-1-101", Purpose: "送餐", Returnee: true, Origin: "湖北", Returned: "2026-02-20"}
	return []protocol.Entry{
		pt.Entry(pt.Kind(protocol.KindShiftIn), guard, pt.Decision(protocol.DecisionAllow, protocol.ReasonShiftIn)),
		pt.Entry(pt.Scan("GP1:resident:ZJ3"), pt.Pass("R4T8W2N6", "5-2-301"), pt.Decision(protocol.DecisionAllow, protocol.ReasonPassValid, protocol.ReasonTemperatureNormal),
			pt.With(func(e *protocol.Entry) { e.OnPost = []string{"V7K2M9Q4"} })),
		pt.Entry(pt.Kind(protocol.KindVisitor), pt.Celsius(36.4), pt.Decision(protocol.DecisionAllow, protocol.ReasonVisitor),
			pt.With(func(e *protocol.Entry) { e.Visitor, e.Unit = visitor, visitor.Visiting })),
		pt.Entry(pt.Scan("GP1:resident:ZJ4"), pt.Celsius(38.1), pt.Decision(protocol.DecisionRemeasure, protocol.ReasonFeverHold)),
		pt.Entry(pt.Scan("GP1:resident:ZJ4"), pt.Celsius(38.3), pt.Alert(protocol.ReasonFeverConfirmed)),
		pt.Entry(pt.Kind(protocol.KindDelivery), pt.Decision(protocol.DecisionAllow, protocol.ReasonParcel),
			pt.With(func(e *protocol.Entry) { e.Count, e.Unit = 3, "2-1-502" })),
		pt.Entry(pt.Kind(protocol.KindDisinfection), guard, pt.Decision(protocol.DecisionAllow, protocol.ReasonDisinfected),
			pt.With(func(e *protocol.Entry) { e.Area = protocol.AreaHandrails })),
		pt.Entry(pt.Kind(protocol.KindVisitor), pt.Celsius(36.6), pt.Decision(protocol.DecisionAllow, protocol.ReasonVisitor),
			pt.With(func(e *protocol.Entry) { e.Visitor, e.Unit = returnee, returnee.Visiting })),
		pt.Entry(pt.Scan("GP1:resident:SIM1"), pt.Celsius(36.7), pt.With(func(e *protocol.Entry) { e.Simulated = true })),
		pt.Entry(pt.Scan("GP1:resident:SIM2"), pt.NoReading(), pt.Decision(protocol.DecisionDeny, protocol.ReasonNoReading),
			pt.With(func(e *protocol.Entry) { e.Simulated = true })),
		pt.Entry(pt.Scan("GP1:staff:X"), pt.Decision(protocol.DecisionDeny, protocol.ReasonPassRevoked)),
		pt.Entry(pt.Kind(protocol.KindShiftOut), guard, pt.Decision(protocol.DecisionAllow, protocol.ReasonShiftOut)),
	}
}

// upgradeChain numbers es for kiosk from seq on, an hour apart, and links
// them into a journal's chain from Genesis.
func upgradeChain(kiosk string, seq uint64, es []protocol.Entry) []protocol.Entry {
	head := protocol.Genesis
	out := make([]protocol.Entry, len(es))
	for i, e := range es {
		n := seq + uint64(i)
		e.Kiosk, e.Seq = kiosk, n
		e.ID = fmt.Sprintf("0190d6e4-7a4b-7cc0-8b8e-%06x%06x", len(kiosk)+int(kiosk[len(kiosk)-1]), n)
		e.Time = upgradeT0.Add(time.Duration(i)*time.Hour - time.Minute)
		e.Prev = protocol.HashText(head)
		head = protocol.EntryHash(head, e)
		out[i] = e
	}
	return out
}

// upgradeView is what a hub reads from its records: the fleet with its
// gaps, every entry, the downlinks, the month's counts, the one map of a
// day, and the chain's verification.
func upgradeView(tb testing.TB, s *SQLite) map[string]any {
	tb.Helper()
	ctx := tb.Context()
	fleet, err := s.Fleet(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	entries, err := s.Entries(ctx, Query{})
	if err != nil {
		tb.Fatal(err)
	}
	downlinks, err := s.Downlinks(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	published, err := s.Published(ctx, protocol.DownlinkConfig)
	if err != nil {
		tb.Fatal(err)
	}
	month, err := s.MonthMap(ctx, "2026-03")
	if err != nil {
		tb.Fatal(err)
	}
	day, err := s.OneMap(ctx, upgradeSite, "2026-03-02")
	if err != nil {
		tb.Fatal(err)
	}
	sites, err := s.Sites(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	verified, err := s.Verify(ctx, "")
	if err != nil {
		tb.Fatal(err)
	}
	verified.Took = ""
	return map[string]any{"fleet": fleet, "entries": entries, "downlinks": downlinks, "published_config": published,
		"month": month, "day": day, "sites": sites, "verified": verified}
}

// TestOpensOlderFiles opens each hub.db an older build wrote with this
// build: it is migrated to the current version and reads back exactly
// what the older build read, its chains verify, and it takes new
// entries.
func TestOpensOlderFiles(t *testing.T) {
	for _, name := range storeversiontest.Fixtures(t, "hub-v*.db") {
		t.Run(name, func(t *testing.T) {
			path := storeversiontest.Copy(t, name+".db", "hub.db")
			s, err := Open(path)
			if err != nil {
				t.Fatalf("Open(%s) = %v", name, err)
			}
			defer s.Close()
			if v := storeversiontest.Version(t, path); v != SchemaVersion() {
				t.Errorf("%s is at version %d after Open, want %d", name, v, SchemaVersion())
			}
			storeversiontest.SameView(t, name+".json", upgradeView(t, s))
			ctx := t.Context()
			v, err := s.Verify(ctx, "")
			if err != nil || len(v.Findings) != 0 || v.Unchained != 0 || v.Entries == 0 {
				t.Fatalf("Verify after the upgrade = %+v, %v; want every entry verified", v, err)
			}
			// The next entry of gate-1 links to the last one held.
			held, err := s.Entries(ctx, Query{Kiosk: "gate-1"})
			if err != nil || len(held) == 0 {
				t.Fatalf("Entries(gate-1) = %d, %v", len(held), err)
			}
			last := held[len(held)-1].Entry
			prev, err := protocol.ParseHash(last.Prev)
			if err != nil {
				t.Fatal(err)
			}
			next := pt.Entry(pt.Kiosk("gate-1"), pt.Seq(last.Seq+1), pt.Scan("GP1:resident:NEW"))
			next.Prev = protocol.HashText(protocol.EntryHash(prev, last))
			kiosks, err := s.Kiosks(ctx)
			if err != nil {
				t.Fatal(err)
			}
			saved, err := s.SaveBatch(ctx, protocol.Batch{Kiosk: "gate-1", Site: upgradeSite, Journal: kiosks[0].Journal,
				Sent: upgradeT0.Add(60 * time.Hour), Entries: []protocol.Entry{next}}, upgradeT0.Add(60*time.Hour))
			if err != nil || saved.Inserted != 1 || saved.Highest != next.Seq {
				t.Fatalf("SaveBatch(gate-1 %d) after the upgrade = %+v, %v; want it stored", next.Seq, saved, err)
			}
			if v, err := s.Verify(ctx, "gate-1"); err != nil || len(v.Findings) != 0 {
				t.Errorf("Verify(gate-1) after a new entry = %+v, %v", v, err)
			}
		})
	}
}

// TestRefusesNewerFile opens a hub.db whose schema version is above what
// this build knows, as a newer gatepost leaves it: refused with both
// versions and what to do, and the folder is left byte for byte as it
// was.
func TestRefusesNewerFile(t *testing.T) {
	names := storeversiontest.Fixtures(t, "hub-v*.db")
	path := storeversiontest.Copy(t, names[len(names)-1]+".db", "hub.db")
	newer := SchemaVersion() + 2
	storeversiontest.SetVersion(t, path, newer)
	before := storeversiontest.Snapshot(t, filepath.Dir(path))
	s, err := Open(path)
	if err == nil {
		s.Close()
		t.Fatalf("Open(hub.db at version %d) succeeded; want it refused", newer)
	}
	want := fmt.Sprintf("hub.db is at schema version %d but this hub knows versions up to %d: "+
		"it was written by a newer gatepost; install that version again (or restore a backup made by this one)", newer, SchemaVersion())
	if !errors.Is(err, storeversion.ErrNewer) || !strings.Contains(err.Error(), want) {
		t.Fatalf("Open(hub.db at version %d) = %v; want ErrNewer saying %q", newer, err, want)
	}
	storeversiontest.Unchanged(t, filepath.Dir(path), before)
	if v := storeversiontest.Version(t, path); v != newer {
		t.Errorf("version after the refusal = %d, want %d", v, newer)
	}
}

// TestEnginesReadTheSameHistory stores the upgrade fixture's history (every
// kind of entry, a gap, a conflict, an unchained kiosk, an imported
// bundle, presence, downlinks, a purge) on both engines: every read the
// hub makes of it (the fleet and its gaps, entries, downlinks and what is
// published, the month's counts, a day's map, compounds, verification)
// is the same.
func TestEnginesReadTheSameHistory(t *testing.T) {
	t.Parallel()
	views := map[string]string{}
	for _, e := range engines {
		s := e.open(t)
		fillUpgradeFixture(t, s)
		view := upgradeView(t, s)
		lists, err := s.Published(t.Context(), protocol.DownlinkStatusList)
		if err != nil || len(lists) != 1 || !lists[0].Issued.Equal(time.Date(2026, 3, 2, 6, 0, 0, 0, time.UTC)) {
			t.Errorf("%s: Published(status list) = %+v, %v; want its payload's issue time", e.name, lists, err)
		}
		view["published_status_list"] = lists
		b, err := json.MarshalIndent(view, "", " ")
		if err != nil {
			t.Fatal(err)
		}
		views[e.name] = string(b)
	}
	if views["sqlite"] != views["postgres"] {
		t.Errorf("SQLite reads\n%s\nPostgreSQL reads\n%s", views["sqlite"], views["postgres"])
	}
}

// A file from before the fever column (schema 7) gets it filled from the
// stored bodies: the fever filter finds exactly the entries with a fever
// reason, through the new index, and the old index over instr(body) is
// gone.
func TestFeverColumnBuiltOnUpgrade(t *testing.T) {
	path := storeversiontest.Copy(t, "hub-v7.db", "hub.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	all, err := s.Entries(t.Context(), Query{})
	if err != nil {
		t.Fatal(err)
	}
	var want []uint64
	for _, e := range all {
		if hasFever(e.Reasons) {
			want = append(want, e.Seq)
		}
	}
	page, err := s.Search(t.Context(), Filter{Fever: true}, 0, MaxPage)
	if err != nil {
		t.Fatal(err)
	}
	var got []uint64
	for _, e := range page.Entries {
		got = append(got, e.Seq)
	}
	slices.Sort(got)
	slices.Sort(want)
	if len(want) == 0 || !slices.Equal(got, want) {
		t.Errorf("fever filter after the upgrade found %v, want %v", got, want)
	}
	var n int
	if err := s.read.DB.QueryRow(`SELECT count(*) FROM sqlite_master WHERE name = 'entries_fever'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("the old instr(body) index is still there (%d, %v)", n, err)
	}
}
