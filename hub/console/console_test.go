package console

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatepost/gatepost/hub/records"
	"github.com/gatepost/gatepost/protocol"
)

var t0 = time.Date(2026, 2, 1, 8, 30, 0, 0, time.UTC)

const xss = `<script>alert(1)</script>`

// newConsole returns a console on a real SQLite store holding, from gate-1,
// seqs 1, 2 and 5 (seq 2 scanned xss), and from gate-2 nothing.
func newConsole(tb testing.TB, withEntries bool) *Console {
	tb.Helper()
	store, err := records.Open(filepath.Join(tb.TempDir(), "hub.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { store.Close() })
	if withEntries {
		b := protocol.Batch{Kiosk: "gate-1", Site: "huamu-1", Sent: t0.Add(time.Hour)}
		for _, seq := range []uint64{1, 2, 5} {
			e := protocol.Entry{
				Kiosk: "gate-1", Seq: seq,
				ID:          fmt.Sprintf("0190d6e4-7a4b-7cc0-8b8e-%012x", seq),
				Time:        t0.Add(time.Duration(seq) * time.Minute),
				Kind:        protocol.KindCheck,
				Scan:        fmt.Sprintf("GP1:resident:%d", seq),
				Decision:    protocol.DecisionAllow,
				Reasons:     []string{"temperature_normal"},
				Temperature: &protocol.Reading{ObjectC: 36.44, ScreenedC: 36.44},
			}
			if seq == 2 {
				e.Scan = xss
				e.Decision, e.Reasons = protocol.DecisionAlert, []string{"fever", "forged_pass"}
				e.Temperature = &protocol.Reading{ObjectC: 37.9, ScreenedC: 38.06}
			}
			b.Entries = append(b.Entries, e)
		}
		if _, err := store.SaveBatch(tb.Context(), b, t0.Add(time.Hour)); err != nil {
			tb.Fatal(err)
		}
	}
	c, err := New(store, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func get(tb testing.TB, h http.Handler, path string) *httptest.ResponseRecorder {
	tb.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec
}

func TestPageListsEntriesEscaped(t *testing.T) {
	t.Parallel()
	c := newConsole(t, true)
	rec := get(t, c, "/")
	if rec.Code != http.StatusOK {
		t.Fatalf("GET / = %d %s", rec.Code, rec.Body)
	}
	body := rec.Body.String()
	for _, want := range []string{
		"<td>gate-1</td>", "GP1:resident:1", "GP1:resident:5",
		"38.1 °C", "36.4 °C", "fever, forged_pass", "2026-02-01 08:32:00Z", // seq 2's kiosk time
		"2026-02-01 09:30:00Z", // received
		"&lt;script&gt;alert(1)&lt;/script&gt;",
		"<td>huamu-1</td>", `<td class="warn">3–4</td>`, // the fleet's gap
		`src="console.js"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("GET / does not contain %q", want)
		}
	}
	if strings.Contains(body, xss) {
		t.Errorf("GET / contains the scan %s unescaped", xss)
	}
	// Newest received first, then by seq descending within a batch.
	if i5, i1 := strings.Index(body, "GP1:resident:5"), strings.Index(body, "GP1:resident:1"); i5 > i1 {
		t.Errorf("seq 5 listed after seq 1, want newest first")
	}
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Errorf("Content-Security-Policy = %q", csp)
	}
}

func TestPageEmpty(t *testing.T) {
	t.Parallel()
	body := get(t, newConsole(t, false), "/").Body.String()
	for _, want := range []string{"No entries yet.", "No kiosk has sent entries yet."} {
		if !strings.Contains(body, want) {
			t.Errorf("GET / on an empty hub does not contain %q", want)
		}
	}
}

func TestAPI(t *testing.T) {
	t.Parallel()
	c := newConsole(t, true)

	rec := get(t, c, "/api/entries?limit=2")
	var entries []map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &entries); err != nil || rec.Code != http.StatusOK {
		t.Fatalf("GET /api/entries = %d %s (%v)", rec.Code, rec.Body, err)
	}
	if len(entries) != 2 || entries[0]["seq"] != 5.0 || entries[0]["site"] != "huamu-1" || entries[0]["received"] == nil {
		t.Errorf("GET /api/entries?limit=2 = %v, want seqs 5 then 2 with site and received", entries)
	}
	if strings.Contains(rec.Body.String(), "<script>") {
		t.Errorf("JSON carries a raw <script>: %s", rec.Body)
	}
	if entries[1]["scan"] != xss {
		t.Errorf("scan through JSON = %v, want %q", entries[1]["scan"], xss)
	}

	rec = get(t, c, "/api/kiosks")
	var kiosks []struct {
		Kiosk      string          `json:"kiosk"`
		Contiguous uint64          `json:"contiguous"`
		Gaps       []records.Range `json:"gaps"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &kiosks); err != nil || rec.Code != http.StatusOK {
		t.Fatalf("GET /api/kiosks = %d %s (%v)", rec.Code, rec.Body, err)
	}
	if len(kiosks) != 1 || kiosks[0].Kiosk != "gate-1" || kiosks[0].Contiguous != 2 ||
		len(kiosks[0].Gaps) != 1 || kiosks[0].Gaps[0] != (records.Range{From: 3, To: 4}) {
		t.Errorf("GET /api/kiosks = %+v, want gate-1 contiguous 2 missing 3-4", kiosks)
	}

	for _, bad := range []string{"0", "-1", "abc", "1001"} {
		if rec := get(t, c, "/api/entries?limit="+bad); rec.Code != http.StatusBadRequest ||
			!strings.Contains(rec.Body.String(), "limit must be") {
			t.Errorf("GET /api/entries?limit=%s = %d %s, want 400 naming limit", bad, rec.Code, rec.Body)
		}
	}
}

func TestHealthzAndAssets(t *testing.T) {
	t.Parallel()
	c := newConsole(t, false)
	for path, want := range map[string]string{
		"/healthz":     "text/plain",
		"/console.js":  "text/javascript",
		"/console.css": "text/css",
	} {
		rec := get(t, c, path)
		if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), want) {
			t.Errorf("GET %s = %d %q, want 200 %s", path, rec.Code, rec.Header().Get("Content-Type"), want)
		}
	}
	if rec := get(t, c, "/nope"); rec.Code != http.StatusNotFound {
		t.Errorf("GET /nope = %d, want 404", rec.Code)
	}
}

func TestGapsText(t *testing.T) {
	t.Parallel()
	many := make([]records.Range, 12)
	for i := range many {
		many[i] = records.Range{From: uint64(10 * i), To: uint64(10*i + 1)}
	}
	for _, tc := range []struct {
		gaps []records.Range
		want string
	}{
		{nil, "none"},
		{[]records.Range{{From: 2, To: 2}, {From: 5, To: 9}}, "2, 5–9"},
		{many, "0–1, 10–11, 20–21, 30–31, 40–41, 50–51, 60–61, 70–71, 80–81, 90–91, … 2 more"},
	} {
		if got := gapsText(tc.gaps); got != tc.want {
			t.Errorf("gapsText(%v) = %q, want %q", tc.gaps, got, tc.want)
		}
	}
}
