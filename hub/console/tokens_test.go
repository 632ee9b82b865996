package console

import (
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatepost/gatepost/hub/operators"
	"github.com/gatepost/gatepost/hub/records/recordstest"
	"github.com/gatepost/gatepost/protocol"
)

// A script with an API token reads what its user may read, changes
// nothing, and is audited by name.
func TestAPITokenReadsOnly(t *testing.T) {
	t.Parallel()
	env := newOps(t, filepath.Join(t.TempDir(), "hub.db"))
	recordstest.SaveEntries(t, env.rec, env.clock.Now().Add(-5*time.Minute), protocol.Entry{Kind: protocol.KindCheck, Decision: protocol.DecisionAllow,
		Reasons: []string{"pass_valid"}, Pass: "P000001", Unit: "3-201"})
	token, err := env.c.OperatorStore().AddToken(t.Context(), "nightly", "op")
	if err != nil {
		t.Fatal(err)
	}
	do := func(method, path, bearer string, form url.Values) (int, string) {
		t.Helper()
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, err := http.NewRequestWithContext(t.Context(), method, env.srv.URL+path, body)
		if err != nil {
			t.Fatal(err)
		}
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := do("GET", "/ops/entries.csv", token, nil); code != http.StatusOK || !strings.Contains(body, "P000001") {
		t.Errorf("GET /ops/entries.csv with a token = %d %.200q", code, body)
	}
	if code, body := do("GET", "/ops/api/kiosks", token, nil); code != http.StatusOK || !strings.Contains(body, "gate-1") {
		t.Errorf("GET /ops/api/kiosks with a token = %d %.200q", code, body)
	}
	if code, _ := do("GET", "/ops/audit", token, nil); code != http.StatusForbidden {
		t.Errorf("an operator's token on the audit log = %d, want 403", code)
	}
	if code, body := do("POST", "/ops/retention", token, url.Values{"visitor": {"1"}}); code != http.StatusForbidden || !strings.Contains(body, "only read") {
		t.Errorf("POST with a token = %d %q, want 403 saying tokens only read", code, body)
	}
	for _, bad := range []string{"gpt_" + strings.Repeat("0", 64), "not-a-token"} {
		if code, _ := do("GET", "/ops/entries.csv", bad, nil); code != http.StatusUnauthorized {
			t.Errorf("GET with token %q = %d, want 401", bad, code)
		}
	}
	log, err := env.c.OperatorStore().AuditLog(t.Context(), 10)
	if err != nil || !slices.ContainsFunc(log, func(a operators.AuditRecord) bool {
		return a.Action == "export" && a.User == "op (token nightly)"
	}) {
		t.Errorf("audit log %+v, %v: want the export by op (token nightly)", log, err)
	}
	if err := env.c.OperatorStore().RevokeToken(t.Context(), "nightly"); err != nil {
		t.Fatal(err)
	}
	if code, _ := do("GET", "/ops/entries.csv", token, nil); code != http.StatusUnauthorized {
		t.Errorf("a revoked token = %d, want 401", code)
	}
}
