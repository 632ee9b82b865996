package journal

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gatepost/gatepost/protocol"
	"github.com/gatepost/gatepost/protocol/protocoltest"
)

func TestUnsentAlerts(t *testing.T) {
	j, _ := openTemp(t)
	ctx := context.Background()
	for i := 0; i < 6; i++ {
		e := protocoltest.Entry(protocoltest.Scan("x"))
		if i%3 == 1 {
			e.Decision, e.Reasons = protocol.DecisionAlert, []string{"fever"}
		}
		if _, err := j.Append(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	got, err := j.UnsentAlerts(ctx, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Seq != 2 || got[1].Seq != 5 {
		t.Fatalf("UnsentAlerts(0) = %d entries %v, want seqs 2 and 5", len(got), got)
	}
	if got, _ := j.UnsentAlerts(ctx, 2, 10); len(got) != 1 || got[0].Seq != 5 {
		t.Fatalf("UnsentAlerts(2) = %v, want seq 5", got)
	}
}

func downlink(v uint64, payload string) protocol.Downlink {
	return protocol.Downlink{Kind: protocol.DownlinkConfig, Site: "site-1", Version: v,
		Issued: t0, Payload: json.RawMessage(payload)}
}

func TestDownlinkNeverGoesBack(t *testing.T) {
	j, path := openTemp(t)
	ctx := context.Background()
	if v, p, err := j.Downlink(ctx, protocol.DownlinkConfig); v != 0 || p != nil || err != nil {
		t.Fatalf("Downlink on a new journal = %d, %s, %v; want 0, nil, nil", v, p, err)
	}
	steps := []struct {
		version uint64
		want    bool
	}{{2, true}, {1, false}, {2, false}, {5, true}, {3, false}}
	for _, s := range steps {
		got, err := j.SaveDownlink(ctx, downlink(s.version, `{"fever_c":37.`+string(rune('0'+s.version))+`}`))
		if err != nil || got != s.want {
			t.Fatalf("SaveDownlink(v%d) = %v, %v; want %v", s.version, got, err, s.want)
		}
	}
	j.Close()
	j2, err := Open(path, "gate-1")
	if err != nil {
		t.Fatal(err)
	}
	defer j2.Close()
	v, p, err := j2.Downlink(ctx, protocol.DownlinkConfig)
	if err != nil || v != 5 || string(p) != `{"fever_c":37.5}` {
		t.Fatalf("Downlink after reopen = %d, %s, %v; want 5, {\"fever_c\":37.5}", v, p, err)
	}
	vs, err := j2.Downlinks(ctx)
	if err != nil || vs["config"] != 5 || len(vs) != 1 {
		t.Fatalf("Downlinks = %v, %v; want config:5", vs, err)
	}
}

// ForgetDownlinks drops what was stored, so that a lower version (the
// hub's own, after enrollment) is taken again.
func TestForgetDownlinks(t *testing.T) {
	j, _ := openTemp(t)
	ctx := context.Background()
	if _, err := j.SaveDownlink(ctx, downlink(501, `{"fever_c":40}`)); err != nil {
		t.Fatal(err)
	}
	if n, err := j.ForgetDownlinks(ctx); n != 1 || err != nil {
		t.Fatalf("ForgetDownlinks = %d, %v; want 1", n, err)
	}
	if ok, err := j.SaveDownlink(ctx, downlink(3, `{"fever_c":37.3}`)); !ok || err != nil {
		t.Fatalf("SaveDownlink(v3) after forgetting = %v, %v; want stored", ok, err)
	}
}

func TestPurgeKeepsUnacked(t *testing.T) {
	j, _ := openTemp(t)
	ctx := context.Background()
	appendN(t, j, 10) // all at t0
	if _, err := j.Ack(ctx, 6, t0); err != nil {
		t.Fatal(err)
	}
	n, err := j.Purge(ctx, t0.Add(time.Hour))
	if err != nil || n != 6 {
		t.Fatalf("Purge = %d, %v; want 6 acked entries deleted", n, err)
	}
	st, err := j.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Entries != 4 || st.Unsynced != 4 || st.LastSeq != 10 {
		t.Fatalf("after purge: %+v; want 4 entries, 4 unsynced, last seq 10", st)
	}
	if n, _ := j.Purge(ctx, t0.Add(-time.Hour)); n != 0 {
		t.Fatalf("Purge before every entry deleted %d", n)
	}
	e, err := j.Append(ctx, protocoltest.Entry(protocoltest.Scan("y")))
	if err != nil || e.Seq != 11 {
		t.Fatalf("Append after purge = seq %d, %v; want 11", e.Seq, err)
	}
}

// A full disk (here SQLite's page limit, which fails the same way) makes
// Append fail cleanly: the entry is not recorded, nothing held changes,
// and once space returns the sequence continues without a gap.
func TestFullDiskDamagesNothing(t *testing.T) {
	j, _ := openTemp(t)
	ctx := context.Background()
	appendN(t, j, 5)
	var pages int
	if err := j.db.QueryRow(`PRAGMA page_count`).Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if _, err := j.db.Exec(fmt.Sprintf(`PRAGMA max_page_count = %d`, pages)); err != nil {
		t.Fatal(err)
	}
	big := protocoltest.Entry(protocoltest.Scan(strings.Repeat("x", 4000)))
	var failed bool
	for i := 0; i < 50 && !failed; i++ {
		_, err := j.Append(ctx, big)
		failed = err != nil
	}
	if !failed {
		t.Fatal("Append never failed on a full database")
	}
	st, err := j.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	held, err := j.Unsent(ctx, 0, 1000)
	if err != nil || uint64(len(held)) != st.LastSeq || held[len(held)-1].Seq != st.LastSeq {
		t.Fatalf("after a failed append: %d entries readable (%v), last seq %d", len(held), err, st.LastSeq)
	}
	if _, err := j.db.Exec(`PRAGMA max_page_count = 1073741823`); err != nil {
		t.Fatal(err)
	}
	e, err := j.Append(ctx, protocoltest.Entry(protocoltest.Scan("after")))
	if err != nil || e.Seq != st.LastSeq+1 {
		t.Fatalf("Append after space returned = seq %d, %v; want %d", e.Seq, err, st.LastSeq+1)
	}
	if r, err := j.db.Query(`PRAGMA integrity_check`); err == nil {
		var res string
		r.Next()
		r.Scan(&res)
		r.Close()
		if res != "ok" {
			t.Errorf("integrity_check = %q", res)
		}
	}
}
