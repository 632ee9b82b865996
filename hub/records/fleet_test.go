package records

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/gatepost/gatepost/protocol"
)

func TestSaveStatusOnlineThenWill(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, s *SQLite) {
		ctx := t.Context()
		on := protocol.Status{Kiosk: "gate-1", Site: "site-1", Online: true, Time: t0, Unsynced: 12,
			DiskLow: true, Downlink: map[string]uint64{"config": 3}}
		if _, err := s.SaveStatus(ctx, on, t0); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SaveStatus(ctx, protocol.Status{Kiosk: "gate-1", Site: "site-1"}, t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		ks, err := s.Kiosks(ctx)
		if err != nil || len(ks) != 1 {
			t.Fatalf("Kiosks = %v, %v", ks, err)
		}
		k := ks[0]
		if k.Online || !k.DiskLow || k.ReportedUnsynced != 12 || k.Downlink["config"] != 3 ||
			k.StatusAt == nil || !k.StatusAt.Equal(t0.Add(time.Minute)) || k.ClockSkewed {
			t.Errorf("after online then will: %+v; want offline, keeping what it last reported", k)
		}
	})
}

func TestClockSkewFlag(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, s *SQLite) {
		b := batch("gate-1", 1)
		mustSave(t, s, b, b.Sent.Add(10*time.Second))
		ks, _ := s.Kiosks(t.Context())
		if ks[0].SkewMS != 10000 || ks[0].ClockSkewed {
			t.Errorf("skew 10s: %+v, want skew_ms 10000, not flagged", ks[0])
		}
		b = batch("gate-1", 2)
		mustSave(t, s, b, b.Sent.Add(-31*time.Second))
		ks, _ = s.Kiosks(t.Context())
		if ks[0].SkewMS != -31000 || !ks[0].ClockSkewed {
			t.Errorf("skew -31s: %+v, want skew_ms -31000, flagged", ks[0])
		}
	})
}

func TestIssueDownlinkVersions(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, s *SQLite) {
		ctx := t.Context()
		p := json.RawMessage(`{"fever_c":37.5}`)
		for i, kiosk := range []string{"", "gate-1", ""} {
			d, err := s.IssueDownlink(ctx, "site-1", kiosk, protocol.DownlinkConfig, p, t0)
			if err != nil || d.Version != uint64(i+1) {
				t.Fatalf("IssueDownlink #%d = v%d, %v; want v%d", i+1, d.Version, err, i+1)
			}
		}
		d, err := s.IssueDownlink(ctx, "site-2", "", protocol.DownlinkConfig, p, t0)
		if err != nil || d.Version != 1 {
			t.Fatalf("IssueDownlink for another site = v%d, %v; want v1", d.Version, err)
		}
		all, err := s.Downlinks(ctx)
		if err != nil || len(all) != 3 {
			t.Fatalf("Downlinks = %d, %v; want 3 (site-1 site-wide v3, gate-1 v2, site-2 v1)", len(all), err)
		}
		if _, err := s.IssueDownlink(ctx, "site-1", "", protocol.DownlinkConfig, json.RawMessage(`[1]`), t0); err == nil {
			t.Error("IssueDownlink with a non-object payload succeeded")
		}
	})
}

func TestImportBundleTwice(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, s *SQLite) {
		ctx := t.Context()
		mustSave(t, s, batch("gate-1", 1, 2), t0)
		var b protocol.Bundle
		for _, seq := range []uint64{3, 4, 5} {
			b.Entries = append(b.Entries, batch("gate-1", seq).Entries...)
		}
		data, err := protocol.EncodeBundle(protocol.Bundle{Kiosk: "gate-1", Site: "site-1", Exported: t0, Entries: b.Entries})
		if err != nil {
			t.Fatal(err)
		}
		bundle, err := protocol.DecodeBundle(data)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.ImportBundle(ctx, bundle)
		if err != nil || got.Inserted != 3 || got.Contiguous != 5 {
			t.Fatalf("first import = %+v, %v; want 3 inserted, contiguous 5", got, err)
		}
		before, _ := s.Kiosks(ctx)
		got, err = s.ImportBundle(ctx, bundle)
		if err != nil || got.Inserted != 0 || got.Duplicates != 3 || got.Contiguous != 5 {
			t.Fatalf("second import = %+v, %v; want 3 duplicates, nothing new", got, err)
		}
		after, _ := s.Kiosks(ctx)
		if before[0].Batches != after[0].Batches || !before[0].LastSeen.Equal(after[0].LastSeen) {
			t.Errorf("import changed the kiosk's row: %+v -> %+v", before[0], after[0])
		}
	})
}

// A kiosk the hub knows only from an imported bundle has not been seen
// live: its LastSeen is zero, not 1970, until its first live batch.
func TestImportedKioskNotSeenLive(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, s *SQLite) {
		ctx := t.Context()
		data, err := protocol.EncodeBundle(protocol.Bundle{Kiosk: "gate-7", Site: "site-1", Exported: t0, Entries: batch("gate-7", 1, 2).Entries})
		if err != nil {
			t.Fatal(err)
		}
		bundle, err := protocol.DecodeBundle(data)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.ImportBundle(ctx, bundle); err != nil {
			t.Fatal(err)
		}
		ks, err := s.Kiosks(ctx)
		if err != nil || len(ks) != 1 {
			t.Fatalf("Kiosks = %+v, %v", ks, err)
		}
		if !ks[0].LastSeen.IsZero() {
			t.Errorf("imported kiosk last seen %v, want zero (never live)", ks[0].LastSeen)
		}
		if js, _ := json.Marshal(ks[0]); strings.Contains(string(js), "last_seen") {
			t.Errorf("JSON %s names a last_seen it does not have", js)
		}
		mustSave(t, s, batch("gate-7", 3), t0)
		if ks, _ = s.Kiosks(ctx); !ks[0].LastSeen.Equal(t0) {
			t.Errorf("after a live batch last seen %v, want %v", ks[0].LastSeen, t0)
		}
	})
}

// A last will that names an earlier connection than the kiosk's latest
// online message is stale: the broker noticed the old link dead only
// after the kiosk had reconnected. It must not mark the kiosk offline.
func TestStaleWillIgnored(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, s *SQLite) {
		ctx := t.Context()
		save := func(st protocol.Status, at time.Time) bool {
			t.Helper()
			applied, err := s.SaveStatus(ctx, st, at)
			if err != nil {
				t.Fatal(err)
			}
			return applied
		}
		online := func() bool {
			t.Helper()
			ks, err := s.Kiosks(ctx)
			if err != nil || len(ks) != 1 {
				t.Fatalf("Kiosks = %+v, %v", ks, err)
			}
			return ks[0].Online
		}
		st := func(on bool, session string) protocol.Status {
			return protocol.Status{Kiosk: "gate-1", Site: "site-1", Online: on, Session: session, Unsynced: 4}
		}
		save(st(true, "aaaa"), t0)
		save(st(true, "bbbb"), t0.Add(time.Second)) // reconnected as bbbb
		if save(st(false, "aaaa"), t0.Add(23*time.Second)) {
			t.Error("the will of connection aaaa was applied after bbbb said online")
		}
		if !online() {
			t.Fatal("a stale will marked the kiosk offline")
		}
		if !save(st(false, "bbbb"), t0.Add(time.Minute)) || online() {
			t.Error("the will of the current connection must mark the kiosk offline")
		}
		// A kiosk from before sessions sends none: its will applies as ever.
		save(st(true, ""), t0.Add(2*time.Minute))
		if !save(st(false, ""), t0.Add(3*time.Minute)) || online() {
			t.Error("a will without a session must apply")
		}
	})
}
