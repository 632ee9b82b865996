package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gatepost/gatepost/hub/records"
	"github.com/gatepost/gatepost/protocol"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var t0 = time.Date(2026, 2, 1, 8, 30, 0, 0, time.UTC)

// seed stores entries for two kiosks in dir/hub.db, out of order.
func seed(tb testing.TB, dir string) {
	tb.Helper()
	store, err := records.Open(filepath.Join(dir, "hub.db"))
	if err != nil {
		tb.Fatal(err)
	}
	defer store.Close()
	for _, b := range []struct {
		kiosk string
		seqs  []uint64
	}{{"gate-2", []uint64{1}}, {"gate-1", []uint64{2, 3}}, {"gate-1", []uint64{1}}} {
		batch := protocol.Batch{Kiosk: b.kiosk, Site: "huamu-1", Sent: t0}
		for _, seq := range b.seqs {
			batch.Entries = append(batch.Entries, protocol.Entry{
				Kiosk: b.kiosk, Seq: seq,
				ID:   fmt.Sprintf("0190d6e4-7a4b-7cc0-8b8e-%c%011x", b.kiosk[5], seq),
				Time: t0, Kind: protocol.KindCheck, Decision: protocol.DecisionAllow,
				Scan:    "line1\n\x1b[31mred",
				Reasons: []string{},
			})
		}
		if _, err := store.SaveBatch(tb.Context(), batch, t0.Add(time.Hour)); err != nil {
			tb.Fatal(err)
		}
	}
}

func run(tb testing.TB, ctx context.Context, stdout io.Writer, args ...string) error {
	tb.Helper()
	cmd := newRootCommand("test", stdout, io.Discard)
	cmd.SetArgs(args)
	return cmd.ExecuteContext(ctx)
}

func TestEntriesJSON(t *testing.T) {
	dir := t.TempDir()
	seed(t, dir)
	var out bytes.Buffer
	if err := run(t, t.Context(), &out, "entries", "--data", dir, "--json"); err != nil {
		t.Fatal(err)
	}
	var got []struct {
		Kiosk    string    `json:"kiosk"`
		Seq      uint64    `json:"seq"`
		ID       string    `json:"id"`
		Site     string    `json:"site"`
		Received time.Time `json:"received"`
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("entries --json: %v\n%s", err, out.String())
	}
	var order []string
	for _, e := range got {
		order = append(order, fmt.Sprintf("%s/%d", e.Kiosk, e.Seq))
		if e.ID == "" || e.Site != "huamu-1" || !e.Received.Equal(t0.Add(time.Hour)) {
			t.Errorf("entry %+v lacks id, site or received", e)
		}
	}
	if want := "gate-1/1 gate-1/2 gate-1/3 gate-2/1"; strings.Join(order, " ") != want {
		t.Errorf("entries --json order = %v, want %s", order, want)
	}

	out.Reset()
	if err := run(t, t.Context(), &out, "entries", "--data", dir, "--json", "--kiosk", "gate-1", "--limit", "2"); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil || len(got) != 2 || got[1].Seq != 2 {
		t.Errorf("entries --kiosk gate-1 --limit 2 = %+v, %v; want seqs 1, 2", got, err)
	}
}

func TestEntriesTable(t *testing.T) {
	dir := t.TempDir()
	seed(t, dir)
	var out bytes.Buffer
	if err := run(t, t.Context(), &out, "entries", "--data", dir); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[0], "KIOSK") {
		t.Fatalf("entries table =\n%s\nwant a header and 4 rows", out.String())
	}
	// Columns line up: SEQ starts at the same offset in every line.
	col := strings.Index(lines[0], "SEQ")
	for _, l := range lines[1:] {
		if !regexp.MustCompile(`^\d`).MatchString(l[col:]) {
			t.Errorf("row %q: SEQ column not at offset %d", l, col)
		}
	}
	if strings.Contains(out.String(), "\x1b") || !strings.Contains(out.String(), `"line1\n\x1b[31mred"`) {
		t.Errorf("scan with control characters not quoted:\n%s", out.String())
	}
}

func TestEntriesWithoutData(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nothing-here")
	err := run(t, t.Context(), io.Discard, "entries", "--data", dir)
	if err == nil || !strings.Contains(err.Error(), "no hub data") {
		t.Errorf("entries --data %s = %v, want a no hub data error", dir, err)
	}
}

// lines sends each line written to it on a channel.
type lines chan string

func (l lines) Write(p []byte) (int, error) {
	for _, s := range strings.Split(strings.TrimSuffix(string(p), "\n"), "\n") {
		l <- s
	}
	return len(p), nil
}

func TestServePrintsReadyAndStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	out := make(lines, 4)
	done := make(chan error, 1)
	go func() {
		done <- run(t, ctx, out, "serve", "--data", t.TempDir(),
			"--mqtt-listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0")
	}()
	var ready string
	select {
	case ready = <-out:
	case err := <-done:
		t.Fatalf("serve returned before ready: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("serve not ready within 10s")
	}
	m := regexp.MustCompile(`^hub ready broker=(tcp://127\.0\.0\.1:\d+) console=(http://127\.0\.0\.1:\d+/)$`).FindStringSubmatch(ready)
	if m == nil {
		cancel()
		<-done
		t.Fatalf("ready line = %q", ready)
	}
	resp, err := http.Get(m[2] + "healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("GET %shealthz = %v, %v", m[2], resp, err)
	}
	if resp != nil {
		resp.Body.Close()
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve after cancel = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop within 10s of cancel")
	}
	http.DefaultClient.CloseIdleConnections()
}
