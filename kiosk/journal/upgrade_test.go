package journal

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatepost/gatepost/internal/clock"
	"github.com/gatepost/gatepost/internal/storeversion"
	"github.com/gatepost/gatepost/internal/storeversion/storeversiontest"
	"github.com/gatepost/gatepost/protocol"
	pt "github.com/gatepost/gatepost/protocol/protocoltest"
)

// The upgrade fixtures: testdata/journal-v0.db is a kiosk's journal.db
// written by the build before journals had a schema version (main at
// 920fa48, December 2026): entries of every kind, synced and unsynced,
// some synced ones purged, calibrations and the downlinks (config, key
// set, status list). testdata/journal-v0-rebased.db is a journal of the
// same build that was rebased after the hub held a replaced journal's
// entries. Each .json beside them is what that build read back from it
// (upgradeView). They were made once, by
//
//	go test ./kiosk/journal -run TestMakeUpgradeFixture -args -make-fixture
//
// and are never rewritten: they stand for what an older release wrote.

const upgradeKiosk = "gate-1"

// upgradeNow is the fixture's clock.
var upgradeNow = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func TestMakeUpgradeFixture(t *testing.T) {
	base := fmt.Sprintf("journal-v%d", SchemaVersion)
	for _, name := range []string{base, base + "-rebased"} {
		path := storeversiontest.Fixture(t, name+".db")
		j, err := OpenWith(path, upgradeKiosk, Options{Clock: clock.NewFake(upgradeNow)})
		if err != nil {
			t.Fatal(err)
		}
		if name == base {
			fillUpgradeFixture(t, j)
		} else {
			fillRebasedFixture(t, j)
		}
		storeversiontest.WriteView(t, name+".json", upgradeView(t, j))
		if err := j.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// upgradeEntries is one of every kind of entry a kiosk makes, the kiosk's
// times an hour apart from upgradeNow on (the ids are the journal's).
func upgradeEntries() []protocol.Entry {
	guard := pt.Pass("V7K2M9Q4", "3-1-202")
	visitor := &protocol.Visitor{Name: "王小明", Contact: "13800000000", From: "上海", Visiting: "5-2-301", Purpose: "探亲"}
	returnee := &protocol.Visitor{Name: "李华", Visiting: "1-1-101", Purpose: "送餐", Returnee: true, Origin: "湖北", Returned: "2026-02-20"}
	es := []protocol.Entry{
		pt.Entry(pt.Kind(protocol.KindShiftIn), guard, pt.Decision(protocol.DecisionRecord, protocol.ReasonShiftIn)),
		pt.Entry(pt.Scan("GP1:resident:ZJ3"), pt.Pass("R4T8W2N6", "5-2-301"), pt.Decision(protocol.DecisionAllow, protocol.ReasonPassValid, protocol.ReasonTemperatureNormal),
			pt.With(func(e *protocol.Entry) { e.OnPost = []string{"V7K2M9Q4"} })),
		pt.Entry(pt.Kind(protocol.KindVisitor), pt.Celsius(36.4), pt.Decision(protocol.DecisionAllow, protocol.ReasonVisitor),
			pt.With(func(e *protocol.Entry) { e.Visitor, e.Unit = visitor, visitor.Visiting })),
		pt.Entry(pt.Scan("GP1:resident:ZJ4"), pt.Celsius(38.1), pt.Decision(protocol.DecisionRemeasure, protocol.ReasonFeverHold)),
		pt.Entry(pt.Scan("GP1:resident:ZJ4"), pt.Celsius(38.3), pt.Alert(protocol.ReasonFeverConfirmed)),
		pt.Entry(pt.Kind(protocol.KindDelivery), pt.Decision(protocol.DecisionRecord, protocol.ReasonParcel),
			pt.With(func(e *protocol.Entry) { e.Count, e.Unit = 3, "2-1-502" })),
		pt.Entry(pt.Kind(protocol.KindDisinfection), guard, pt.Decision(protocol.DecisionRecord, protocol.ReasonDisinfected),
			pt.With(func(e *protocol.Entry) { e.Area = protocol.AreaHandrails })),
		pt.Entry(pt.Kind(protocol.KindVisitor), pt.Celsius(36.6), pt.Decision(protocol.DecisionAllow, protocol.ReasonVisitor),
			pt.With(func(e *protocol.Entry) { e.Visitor, e.Unit = returnee, returnee.Visiting })),
		pt.Entry(pt.Scan("GP1:resident:SIM1"), pt.Celsius(36.7), pt.With(func(e *protocol.Entry) { e.Simulated = true })),
		pt.Entry(pt.Scan("GP1:resident:SIM2"), pt.NoReading(), pt.Decision(protocol.DecisionDeny, protocol.ReasonNoReading),
			pt.With(func(e *protocol.Entry) { e.Simulated = true })),
		pt.Entry(pt.Scan("GP1:staff:X"), pt.Alert(protocol.ReasonPassRevoked)),
		pt.Entry(pt.Kind(protocol.KindShiftOut), guard, pt.Decision(protocol.DecisionRecord, protocol.ReasonShiftOut)),
	}
	for i := range es {
		es[i].Time = upgradeNow.Add(time.Duration(i-len(es)) * time.Hour)
	}
	return es
}

// fillUpgradeFixture appends every kind of entry, has the hub acknowledge
// the first six, purges the first two (synced, past retention), and
// keeps two calibrations and a downlink of each kind.
func fillUpgradeFixture(tb testing.TB, j *Journal) {
	tb.Helper()
	ctx := tb.Context()
	es := upgradeEntries()
	if _, err := j.AppendMany(ctx, es[:6]); err != nil {
		tb.Fatal(err)
	}
	for _, e := range es[6:] {
		if _, err := j.Append(ctx, e); err != nil {
			tb.Fatal(err)
		}
	}
	if _, err := j.Ack(ctx, 6, upgradeNow.Add(-time.Hour)); err != nil {
		tb.Fatal(err)
	}
	if n, err := j.Purge(ctx, es[2].Time); err != nil || n != 2 {
		tb.Fatalf("Purge = %d, %v; want the 2 oldest synced entries", n, err)
	}
	for i, c := range []Calibration{
		{Time: upgradeNow.Add(-30 * 24 * time.Hour), OffsetC: 0.4, ReferenceC: 37, ReadingsC: []float64{36.5, 36.6, 36.7}, By: "installer"},
		{Time: upgradeNow.Add(-24 * time.Hour), OffsetC: -0.2, ReferenceC: 36.8, ReadingsC: []float64{37, 37, 37}, By: "技术员"},
	} {
		if err := j.RecordCalibration(ctx, c); err != nil {
			tb.Fatalf("calibration %d: %v", i, err)
		}
	}
	pub := hex.EncodeToString(make([]byte, 32))
	for _, d := range []protocol.Downlink{
		{Kind: protocol.DownlinkConfig, Version: 3, Payload: json.RawMessage(`{"fever_c":37.5,"key_regions":["湖北"]}`)},
		{Kind: protocol.DownlinkKeys, Version: 4, Payload: json.RawMessage(fmt.Sprintf(`{"site":"huamu-001","keys":[{"id":"k2","public":%q}]}`, pub))},
		{Kind: protocol.DownlinkStatusList, Version: 5, Payload: json.RawMessage(`{"site":"huamu-001","issued":"2026-03-02T08:00:00Z","revoked":["T0FXNV1R"],"observation":[{"id":"R7SEW347","until":"2026-03-09T09:00:00Z"}]}`)},
	} {
		d.Site, d.Issued = "huamu-001", upgradeNow.Add(-2*time.Hour)
		if _, err := j.SaveDownlink(ctx, d); err != nil {
			tb.Fatal(err)
		}
	}
}

// fillRebasedFixture appends entries no hub has acknowledged, then
// rebases them after the 40 entries (and the head) the hub holds of the
// journal this one replaced, and appends two more.
func fillRebasedFixture(tb testing.TB, j *Journal) {
	tb.Helper()
	ctx := tb.Context()
	es := upgradeEntries()
	if _, err := j.AppendMany(ctx, es[:5]); err != nil {
		tb.Fatal(err)
	}
	var head [32]byte
	for i := range head {
		head[i] = byte(i + 1)
	}
	if _, err := j.Rebase(ctx, "0190d6e4-7a4b-7cc0-8b8e-00000000a0a0", 40, head); err != nil {
		tb.Fatal(err)
	}
	if _, err := j.AppendMany(ctx, es[5:7]); err != nil {
		tb.Fatal(err)
	}
}

// upgradeView is what a kiosk reads from its journal: its status, every
// entry held with its chain hash, what is unsent and which of it are
// alerts, the chain's head, the calibrations and the downlinks.
func upgradeView(tb testing.TB, j *Journal) map[string]any {
	tb.Helper()
	ctx := tb.Context()
	st, err := j.Status(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	st.Path, st.SizeBytes = "", 0 // where the copy lies, and how the file grew
	all, err := j.Unsent(ctx, 0, 1000)
	if err != nil {
		tb.Fatal(err)
	}
	hashes := map[uint64]string{}
	for _, e := range all {
		h, ok, err := j.EntryHashAt(ctx, e.Seq)
		if err != nil || !ok {
			tb.Fatalf("EntryHashAt(%d) = %v, %v", e.Seq, ok, err)
		}
		hashes[e.Seq] = protocol.HashText(h)
	}
	unsent, err := j.Unsent(ctx, st.AckedSeq, 1000)
	if err != nil {
		tb.Fatal(err)
	}
	alerts, err := j.UnsentAlerts(ctx, st.AckedSeq, 1000)
	if err != nil {
		tb.Fatal(err)
	}
	head, err := j.Head(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	cals, err := j.Calibrations(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	versions, err := j.Downlinks(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	payloads := map[protocol.DownlinkKind]json.RawMessage{}
	for _, k := range protocol.DownlinkKinds {
		if _, p, err := j.Downlink(ctx, k); err != nil {
			tb.Fatal(err)
		} else if p != nil {
			payloads[k] = p
		}
	}
	return map[string]any{"status": st, "entries": all, "hashes": hashes, "unsent": unsent, "unsent_alerts": alerts,
		"head": protocol.HashText(head), "calibrations": cals, "downlinks": versions, "payloads": payloads}
}

// TestOpensOlderFiles opens each journal an older build wrote with this
// build: read-only first (as `kiosk status` and `kiosk doctor` do, which
// change nothing), then for writing, which migrates it. It reads back
// what the older build read: every entry, what is unsynced still
// unsynced, calibrations and downlinks; its chain links; and the next
// entry follows its head.
func TestOpensOlderFiles(t *testing.T) {
	for _, name := range storeversiontest.Fixtures(t, "journal-v*.db") {
		t.Run(name, func(t *testing.T) {
			path := storeversiontest.Copy(t, name+".db", "journal.db")
			ro, err := OpenReadOnly(path)
			if err != nil {
				t.Fatalf("OpenReadOnly(%s) = %v", name, err)
			}
			storeversiontest.SameView(t, name+".json", upgradeView(t, ro))
			if err := ro.Close(); err != nil {
				t.Fatal(err)
			}
			j, err := OpenWith(path, upgradeKiosk, Options{Clock: clock.NewFake(upgradeNow)})
			if err != nil {
				t.Fatalf("Open(%s) = %v", name, err)
			}
			defer j.Close()
			if v := storeversiontest.Version(t, path); v != SchemaVersion {
				t.Errorf("%s is at version %d after Open, want %d", name, v, SchemaVersion)
			}
			storeversiontest.SameView(t, name+".json", upgradeView(t, j))
			head := checkChainLinks(t, j)
			ctx := t.Context()
			st, err := j.Status(ctx)
			if err != nil {
				t.Fatal(err)
			}
			e, err := j.Append(ctx, pt.Entry(pt.Scan("GP1:resident:NEW"), pt.At(upgradeNow)))
			if err != nil || e.Seq != st.LastSeq+1 || e.Prev != protocol.HashText(head) {
				t.Fatalf("Append after the upgrade = seq %d prev %s, %v; want seq %d after the head %s",
					e.Seq, e.Prev, err, st.LastSeq+1, protocol.HashText(head))
			}
			if moved, err := j.Ack(ctx, e.Seq, upgradeNow); err != nil || !moved {
				t.Errorf("Ack(%d) after the upgrade = %v, %v", e.Seq, moved, err)
			}
		})
	}
}

// checkChainLinks walks the entries j holds: each stored hash is the
// entry's hash after its prev, each prev is the hash of the entry before
// it, and the head is the last hash. It returns the head.
func checkChainLinks(tb testing.TB, j *Journal) [32]byte {
	tb.Helper()
	ctx := tb.Context()
	all, err := j.Unsent(ctx, 0, 1000)
	if err != nil || len(all) == 0 {
		tb.Fatalf("Unsent(0) = %d entries, %v", len(all), err)
	}
	var last [32]byte
	for i, e := range all {
		prev, err := protocol.ParseHash(e.Prev)
		if err != nil {
			tb.Fatalf("entry %d: prev %q: %v", e.Seq, e.Prev, err)
		}
		if i > 0 && prev != last {
			tb.Errorf("entry %d follows %s, but entry %d's hash is %s", e.Seq, e.Prev, all[i-1].Seq, protocol.HashText(last))
		}
		stored, ok, err := j.EntryHashAt(ctx, e.Seq)
		if err != nil || !ok || stored != protocol.EntryHash(prev, e) {
			tb.Errorf("entry %d: stored hash %x (%v, %v) is not its hash after its prev", e.Seq, stored, ok, err)
		}
		last = stored
	}
	head, err := j.Head(ctx)
	if err != nil || head != last {
		tb.Errorf("Head = %x, %v; want the last entry's hash %x", head, err, last)
	}
	return head
}

// TestRefusesNewerFile opens a journal whose schema version is above what
// this build knows, as a newer kiosk leaves it: Open and OpenReadOnly
// refuse it with both versions and what to do, and the data folder is
// left byte for byte as it was.
func TestRefusesNewerFile(t *testing.T) {
	names := storeversiontest.Fixtures(t, "journal-v*.db")
	path := storeversiontest.Copy(t, names[0]+".db", "journal.db")
	newer := SchemaVersion + 1
	// A newer kiosk might drop a table; this one must not make it again.
	storeversiontest.Exec(t, path, `DROP TABLE downlinks`)
	storeversiontest.SetVersion(t, path, newer)
	dir := filepath.Dir(path)
	before := storeversiontest.Snapshot(t, dir)
	want := fmt.Sprintf("journal.db is at schema version %d but this kiosk knows versions up to %d: "+
		"it was written by a newer gatepost; install that version again (or restore a backup made by this one)", newer, SchemaVersion)
	for _, open := range []struct {
		name string
		open func() (*Journal, error)
	}{
		{"Open", func() (*Journal, error) { return Open(path, upgradeKiosk) }},
		{"OpenReadOnly", func() (*Journal, error) { return OpenReadOnly(path) }},
	} {
		j, err := open.open()
		if err == nil {
			j.Close()
			t.Fatalf("%s(journal.db at version %d) succeeded; want it refused", open.name, newer)
		}
		if !errors.Is(err, storeversion.ErrNewer) || !strings.Contains(err.Error(), want) {
			t.Fatalf("%s(journal.db at version %d) = %v; want ErrNewer saying %q", open.name, newer, err, want)
		}
		storeversiontest.Unchanged(t, dir, before)
	}
}

// TestMigrationsMatchVersion keeps the list of steps and the version in
// step: version 1 is made in code, each later one by migrations.
func TestMigrationsMatchVersion(t *testing.T) {
	if len(migrations) != SchemaVersion-1 {
		t.Fatalf("%d migrations for schema version %d: want %d (SchemaVersion-1)", len(migrations), SchemaVersion, SchemaVersion-1)
	}
}
