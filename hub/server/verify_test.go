package server

import (
	"database/sql"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatepost/gatepost/internal/testkit"
)

// The hub walks its stored chains on a schedule: clean storage verifies
// with no finding; a row changed in hub.db behind the hub's back is found
// at the next walk, and /metrics says so.
func TestScheduledVerifyFindsAChangedRow(t *testing.T) {
	dir := t.TempDir()
	s := open(t, Config{DataDir: dir, VerifyEvery: 50 * time.Millisecond})
	k := newKiosk(t, s, s.BrokerURL())
	k.publish(t, batch(t, 3))
	if got := k.nextAck(t); got.ack.Contiguous != 3 {
		t.Fatalf("ack = %+v", got.ack)
	}
	testkit.EventuallyState(t, 10*time.Second, "a clean walk after the batch", func() (bool, string) {
		at, res, err := s.verify.Last()
		return !at.IsZero() && err == nil && res.Entries == 3 && len(res.Findings) == 0, res.Took
	})
	u := url.URL{Path: filepath.Join(dir, "hub.db")}
	db, err := sql.Open("sqlite", "file:"+u.EscapedPath()+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE entries SET body = replace(body, '36.5', '35.9') WHERE seq = 2`); err != nil {
		t.Fatal(err)
	}
	testkit.EventuallyState(t, 10*time.Second, "the changed row found", func() (bool, string) {
		_, res, _ := s.verify.Last()
		return len(res.Findings) == 1 && res.Findings[0].Seq == 2, strings.Repeat("x", len(res.Findings))
	})
	if m := scrape(t, s); !strings.Contains(m, "gatepost_hub_verify_findings 1") {
		t.Errorf("/metrics does not count the finding:\n%s", m)
	}
}
