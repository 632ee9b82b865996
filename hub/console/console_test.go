package console

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatepost/gatepost/hub/records"
	"github.com/gatepost/gatepost/hub/records/recordstest"
	"github.com/gatepost/gatepost/protocol"
)

var t0 = time.Date(2026, 2, 1, 8, 30, 0, 0, time.UTC)

const xss = `<script>alert(1)</script>`

// saveGaps stores, from gate-1 of huamu-1, seqs 1, 2 and 5 (seq 2 scanned
// xss), received at t0 + 1 h.
func saveGaps(tb testing.TB, store *records.SQLite) {
	tb.Helper()
	b := protocol.Batch{Kiosk: "gate-1", Site: "huamu-1", Sent: t0.Add(time.Hour)}
	for _, seq := range []uint64{1, 2, 5} {
		e := protocol.Entry{
			Kiosk: "gate-1", Seq: seq,
			ID:          fmt.Sprintf("0190d6e4-7a4b-7cc0-8b8e-%012x", seq),
			Time:        t0.Add(time.Duration(seq) * time.Minute),
			Kind:        protocol.KindCheck,
			Scan:        fmt.Sprintf("GP1:resident:%d", seq),
			Decision:    protocol.DecisionAllow,
			Reasons:     []string{protocol.ReasonTemperatureNormal},
			Temperature: &protocol.Reading{ObjectC: 36.44, ScreenedC: 36.44},
		}
		if seq == 2 {
			e.Scan = xss
			e.Decision, e.Reasons = protocol.DecisionAlert, []string{protocol.ReasonFeverConfirmed, protocol.ReasonPassForged}
			e.Temperature = &protocol.Reading{ObjectC: 37.9, ScreenedC: 38.06}
		}
		b.Entries = append(b.Entries, e)
	}
	if _, err := store.SaveBatch(tb.Context(), b, t0.Add(time.Hour)); err != nil {
		tb.Fatal(err)
	}
}

// The read API under /ops/api/: for a signed-in user (and a token, in
// tokens_test.go); nobody else.
func TestAPI(t *testing.T) {
	t.Parallel()
	env := newOps(t, filepath.Join(t.TempDir(), "hub.db"))
	saveGaps(t, env.rec)
	c := env.client(t)
	for _, path := range []string{"/ops/api/entries", "/ops/api/kiosks"} {
		if code, _, _ := c.get(path); code != http.StatusUnauthorized {
			t.Errorf("GET %s without signing in = %d, want 401", path, code)
		}
	}
	c.signIn("op", opPW)

	code, body, _ := c.get("/ops/api/entries?limit=2")
	var entries []map[string]any
	if err := json.Unmarshal([]byte(body), &entries); err != nil || code != http.StatusOK {
		t.Fatalf("GET /ops/api/entries = %d %s (%v)", code, body, err)
	}
	if len(entries) != 2 || entries[0]["seq"] != 5.0 || entries[0]["site"] != "huamu-1" || entries[0]["received"] == nil {
		t.Errorf("GET /ops/api/entries?limit=2 = %v, want seqs 5 then 2 with site and received", entries)
	}
	if strings.Contains(body, "<script>") {
		t.Errorf("JSON carries a raw <script>: %s", body)
	}
	if entries[1]["scan"] != xss {
		t.Errorf("scan through JSON = %v, want %q", entries[1]["scan"], xss)
	}

	code, body, _ = c.get("/ops/api/kiosks")
	var kiosks []struct {
		Kiosk      string          `json:"kiosk"`
		Contiguous uint64          `json:"contiguous"`
		Gaps       []records.Range `json:"gaps"`
	}
	if err := json.Unmarshal([]byte(body), &kiosks); err != nil || code != http.StatusOK {
		t.Fatalf("GET /ops/api/kiosks = %d %s (%v)", code, body, err)
	}
	if len(kiosks) != 1 || kiosks[0].Kiosk != "gate-1" || kiosks[0].Contiguous != 2 ||
		len(kiosks[0].Gaps) != 1 || kiosks[0].Gaps[0] != (records.Range{From: 3, To: 4}) {
		t.Errorf("GET /ops/api/kiosks = %+v, want gate-1 contiguous 2 missing 3-4", kiosks)
	}

	// The fleet page shows the same gap (the older open page did too).
	if code, body, _ := c.get("/ops/fleet"); code != http.StatusOK || !strings.Contains(body, `<td class="warn">3–4</td>`) {
		t.Errorf("GET /ops/fleet = %d, want gate-1's gap 3–4", code)
	}

	for _, bad := range []string{"0", "-1", "abc", "1001"} {
		if code, body, _ := c.get("/ops/api/entries?limit=" + bad); code != http.StatusBadRequest ||
			!strings.Contains(body, "limit must be") {
			t.Errorf("GET /ops/api/entries?limit=%s = %d %s, want 400 naming limit", bad, code, body)
		}
	}
}

// The older open page and its /api/* are gone: / leads to the console,
// /api/* is not found. /healthz and the console's assets answer anyone.
func TestRoutesOutsideOps(t *testing.T) {
	t.Parallel()
	env := newOps(t, filepath.Join(t.TempDir(), "hub.db"))
	c := env.client(t)
	if code, _, h := c.get("/"); code != http.StatusSeeOther || h.Get("Location") != "/ops/" {
		t.Errorf("GET / = %d %s, want a redirect to /ops/", code, h.Get("Location"))
	}
	for path, want := range map[string]string{
		"/healthz":     "text/plain",
		"/ops/ops.js":  "text/javascript",
		"/ops/ops.css": "text/css",
	} {
		code, _, h := c.get(path)
		if code != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), want) {
			t.Errorf("GET %s = %d %q, want 200 %s", path, code, h.Get("Content-Type"), want)
		}
		if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
			t.Errorf("GET %s: Content-Security-Policy = %q", path, csp)
		}
	}
	for _, path := range []string{"/api/entries", "/api/kiosks", "/console.js", "/console.css", "/nope"} {
		if code, _, _ := c.get(path); code != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", path, code)
		}
	}
}

// A Chinese page says what the codes mean, in Chinese: reasons, kinds,
// decisions and disinfection areas come from protocol/text.
func TestCodesInTheReadersLanguage(t *testing.T) {
	t.Parallel()
	env := newOps(t, filepath.Join(t.TempDir(), "hub.db"))
	day := env.clock.Now().Add(-time.Hour)
	recordstest.SaveEntries(t, env.rec, day,
		protocol.Entry{Kind: protocol.KindCheck, Decision: protocol.DecisionAlert, Pass: "P000001", Unit: "3-201",
			Reasons: []string{protocol.ReasonFeverConfirmed}, Temperature: &protocol.Reading{ObjectC: 38, ScreenedC: 38.2}},
		protocol.Entry{Kind: protocol.KindDisinfection, Decision: protocol.DecisionRecord, Pass: "P000002",
			Area: protocol.AreaHandrails, Reasons: []string{protocol.ReasonDisinfected}},
	)
	c := env.client(t)
	c.signIn("admin", adminPW)
	_, entries, _ := c.get("/ops/")
	_, onemap, _ := c.get("/ops/onemap?site=huamu-001&day=" + day.Add(-time.Minute).Format(time.DateOnly))
	token := c.csrf("/ops/")
	_, reveal, _ := c.post("/ops/reveal", url.Values{"csrf": {token}, "kiosk": {"gate-1"}, "seq": {"1"}})
	for page, body := range map[string]string{"entries": entries, "reveal": reveal} {
		for _, want := range []string{"复测仍发热", "报警", "核验"} {
			if !strings.Contains(body, want) {
				t.Errorf("zh-CN %s page lacks %q", page, want)
			}
		}
		if strings.Contains(body, protocol.ReasonFeverConfirmed) {
			t.Errorf("zh-CN %s page shows the raw code %s", page, protocol.ReasonFeverConfirmed)
		}
	}
	if !strings.Contains(onemap, "楼梯扶手") || strings.Contains(onemap, protocol.AreaHandrails) {
		t.Errorf("zh-CN one map: want 楼梯扶手 for the area, not %q", protocol.AreaHandrails)
	}
	c.get("/ops/lang?to=en&back=/ops/")
	_, entries, _ = c.get("/ops/")
	if !strings.Contains(entries, "fever") || strings.Contains(entries, "复测仍发热") {
		t.Errorf("the English entries page is not in English")
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
