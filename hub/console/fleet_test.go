package console

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatepost/gatepost/hub/pki"
	"github.com/gatepost/gatepost/hub/registry"
	"github.com/gatepost/gatepost/protocol"
)

// newFleetOps is newOps with the kiosk register and the hub's TLS files,
// as `hub serve` wires them; tlsErr makes TLS fail as before `hub tls
// init`.
func newFleetOps(t *testing.T, tlsErr error) (*opsEnv, *registry.Store, *pki.Files) {
	t.Helper()
	base := newOps(t, filepath.Join(t.TempDir(), "hub.db"))
	reg, err := registry.OpenFile(t.Context(), filepath.Join(t.TempDir(), registry.FileName), base.clock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Close() })
	files, err := pki.Init(t.TempDir(), pki.Options{Names: []string{"hub.huamu.local", "127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Config{Records: base.rec, Operators: base.store, Clock: base.clock, Kiosks: reg,
		TLS: func() (*pki.Files, error) { return files, tlsErr }})
	if err != nil {
		t.Fatal(err)
	}
	env := &opsEnv{c: c, rec: base.rec, clock: base.clock, store: base.store, srv: httptest.NewServer(c)}
	t.Cleanup(func() { c.Stop(); env.srv.Close() })
	return env, reg, files
}

func seedKey(b byte) ed25519.PrivateKey {
	seed := make([]byte, ed25519.SeedSize)
	seed[0] = b
	return ed25519.NewKeyFromSeed(seed)
}

var shownCodeText = regexp.MustCompile(`<code id="code-text">(GPE1:[^<]+)</code>`)

func TestFleetPageShowsTheRegister(t *testing.T) {
	t.Parallel()
	env, reg, _ := newFleetOps(t, nil)
	ctx := t.Context()
	saveGaps(t, env.rec) // huamu-1/gate-1 has sent batches, and is not in the register
	if _, err := reg.Add(ctx, "huamu-1", "gate-2", seedKey(2).Public().(ed25519.PublicKey)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := reg.NewCode(ctx, "huamu-1", "gate-3", 5*time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Add(ctx, "huamu-1", "gate-4", seedKey(4).Public().(ed25519.PublicKey)); err != nil {
		t.Fatal(err)
	}
	if err := reg.Retire(ctx, "gate-4"); err != nil {
		t.Fatal(err)
	}
	if err := reg.SetTransition(ctx, "huamu-1", env.clock.Now().Add(48*time.Hour)); err != nil {
		t.Fatal(err)
	}
	op := env.client(t)
	op.signIn("op", opPW)
	code, body, _ := op.get("/ops/fleet")
	if code != http.StatusOK {
		t.Fatalf("fleet page = %d", code)
	}
	row := func(kiosk string) string {
		m := regexp.MustCompile(`(?s)<tr id="kiosk-` + kiosk + `">.*?</tr>`).FindString(body)
		if m == "" {
			t.Fatalf("fleet page has no row for %s:\n%s", kiosk, body)
		}
		return m
	}
	for kiosk, want := range map[string][]string{
		"gate-1": {"未登记", "过渡期内暂时接受", `<td class="warn">3–4</td>`},
		"gate-2": {"已登记", protocol.Fingerprint(seedKey(2).Public().(ed25519.PublicKey)), "尚未上传任何数据"},
		"gate-3": {"待登记", "登记码有效至 " + env.clock.Now().Add(5*time.Hour).In(passesZone()).Format("2006-01-02 15:04:05")},
		"gate-4": {"已停用"},
	} {
		r := row(kiosk)
		for _, w := range want {
			if !strings.Contains(r, w) {
				t.Errorf("row %s lacks %q:\n%s", kiosk, w, r)
			}
		}
	}
	if strings.Contains(row("gate-2"), "过渡期内") || strings.Contains(row("gate-4"), "过渡期内") {
		t.Error("an enrolled or retired kiosk is marked as taken by the transition")
	}
	if !strings.Contains(body, `id="transition-huamu-1"`) || !strings.Contains(body, "过渡模式：小区 huamu-1") {
		t.Errorf("fleet page lacks the transition warning")
	}
	if strings.Contains(body, `action="/ops/fleet/enroll"`) || strings.Contains(body, `action="/ops/fleet/retire"`) {
		t.Error("an operator's fleet page offers enroll or retire")
	}
	token := op.csrf("/ops/fleet")
	for path, form := range map[string]url.Values{
		"/ops/fleet/enroll": {"site": {"huamu-1"}, "kiosk": {"gate-9"}},
		"/ops/fleet/retire": {"kiosk": {"gate-2"}, "confirm": {"yes"}},
	} {
		form.Set("csrf", token)
		if code, _, _ := op.post(path, form); code != http.StatusForbidden {
			t.Errorf("operator POST %s = %d, want 403", path, code)
		}
	}
	if k, _ := reg.Get(ctx, "gate-2"); k.State != registry.Enrolled {
		t.Fatalf("an operator's post retired gate-2")
	}
	if _, err := reg.Get(ctx, "gate-9"); !errors.Is(err, registry.ErrUnknown) {
		t.Fatalf("an operator's post made a code for gate-9")
	}

	// English reads the same page.
	if code, _, _ := op.get("/ops/lang?to=en&back=/ops/fleet"); code != http.StatusSeeOther {
		t.Fatalf("switch to English = %d", code)
	}
	_, body, _ = op.get("/ops/fleet")
	for _, w := range []string{"not enrolled", "enrolled", "pending", "retired", "Transition mode: site huamu-1"} {
		if !strings.Contains(body, w) {
			t.Errorf("English fleet page lacks %q", w)
		}
	}
}

func passesZone() *time.Location {
	z, _ := time.LoadLocation("Asia/Shanghai")
	if z == nil {
		return time.FixedZone("CST", 8*3600)
	}
	return z
}

func TestAdminEnrollsAndRetiresOnTheFleetPage(t *testing.T) {
	t.Parallel()
	env, reg, files := newFleetOps(t, nil)
	ctx := t.Context()
	admin := env.client(t)
	admin.signIn("admin", adminPW)
	code, body, _ := admin.get("/ops/fleet")
	if code != http.StatusOK || !strings.Contains(body, `id="enroll-form"`) {
		t.Fatalf("admin's fleet page = %d, want the enroll form", code)
	}
	token := admin.csrf("/ops/fleet")
	if code, _, _ := admin.post("/ops/fleet/enroll", url.Values{"site": {"huamu-1"}, "kiosk": {"gate-1"}}); code != http.StatusForbidden {
		t.Errorf("enroll without CSRF = %d, want 403", code)
	}
	code, body, _ = admin.post("/ops/fleet/enroll", url.Values{"csrf": {token}, "site": {"huamu-1"}, "kiosk": {"gate-1"}, "ttl_hours": {"2"}})
	m := shownCodeText.FindStringSubmatch(body)
	if code != http.StatusOK || m == nil || !strings.Contains(body, `<svg xmlns="http://www.w3.org/2000/svg" class="qr"`) {
		t.Fatalf("enroll = %d, want the code shown with its QR:\n%s", code, body)
	}
	enrollCode, err := protocol.ParseEnrollCode(m[1])
	if err != nil || enrollCode.Hub != "hub.huamu.local:8443" || enrollCode.CA != pki.Fingerprint(files.CA) {
		t.Fatalf("shown code %q = %+v, %v", m[1], enrollCode, err)
	}
	if k, _ := reg.Get(ctx, "gate-1"); k.State != registry.Pending || !k.CodeExpires.Equal(env.clock.Now().Add(2*time.Hour)) {
		t.Fatalf("after the console's enroll gate-1 = %+v, want pending for 2 h", k)
	}
	// The code is real: the kiosk redeems it.
	key := seedKey(1)
	if _, err := reg.Redeem(ctx, protocol.EnrollRequest{V: protocol.Version, Secret: enrollCode.Secret, Site: "huamu-1", Kiosk: "gate-1",
		PublicKey: protocol.PublicKeyText(key.Public().(ed25519.PublicKey)), Time: env.clock.Now()}, key.Public().(ed25519.PublicKey)); err != nil {
		t.Fatalf("redeeming the console's code: %v", err)
	}
	if _, err := reg.Add(ctx, "huamu-2", "gate-7", seedKey(7).Public().(ed25519.PublicKey)); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Add(ctx, "huamu-1", "gate-8", seedKey(8).Public().(ed25519.PublicKey)); err != nil {
		t.Fatal(err)
	}
	if err := reg.Retire(ctx, "gate-8"); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []struct {
		site, kiosk, ttl string
		status           int
		want             string
	}{
		{"huamu-1", "gate 9", "", http.StatusBadRequest, "只能使用字母"},
		{"<script>", "gate-9", "", http.StatusBadRequest, "“&lt;script&gt;”"},
		{"huamu-1", "gate-9", "0", http.StatusBadRequest, "有效期（ttl_hours）"},
		{"huamu-1", "gate-9", "721", http.StatusBadRequest, "有效期（ttl_hours）"},
		{"huamu-1", "gate-7", "", http.StatusBadRequest, "属于其他小区"},
		{"huamu-1", "gate-8", "", http.StatusBadRequest, "已停用"},
	} {
		code, body, _ := admin.post("/ops/fleet/enroll", url.Values{"csrf": {token}, "site": {bad.site}, "kiosk": {bad.kiosk}, "ttl_hours": {bad.ttl}})
		if code != bad.status || !strings.Contains(body, bad.want) || shownCodeText.MatchString(body) {
			t.Errorf("enroll %s/%s ttl %q = %d, want %d saying %q and no code", bad.site, bad.kiosk, bad.ttl, code, bad.status, bad.want)
		}
		if strings.Contains(body, "<script>") {
			t.Error("the site was not escaped")
		}
	}
	if _, err := reg.Get(ctx, "gate-9"); !errors.Is(err, registry.ErrUnknown) {
		t.Error("a refused enroll registered gate-9")
	}

	// Retire: only with the box ticked.
	if code, body, _ := admin.post("/ops/fleet/retire", url.Values{"csrf": {token}, "kiosk": {"gate-1"}}); code != http.StatusBadRequest || !strings.Contains(body, "永久停用") {
		t.Errorf("retire without confirm = %d, want 400 asking to tick the box", code)
	}
	if k, _ := reg.Get(ctx, "gate-1"); k.State != registry.Enrolled {
		t.Fatal("retire without confirm retired gate-1")
	}
	if code, _, _ := admin.post("/ops/fleet/retire", url.Values{"kiosk": {"gate-1"}, "confirm": {"yes"}}); code != http.StatusForbidden {
		t.Errorf("retire without CSRF = %d, want 403", code)
	}
	code, _, h := admin.post("/ops/fleet/retire", url.Values{"csrf": {token}, "kiosk": {"gate-1"}, "confirm": {"yes"}})
	if code != http.StatusSeeOther || h.Get("Location") != "/ops/fleet?retired=gate-1" {
		t.Fatalf("retire = %d → %s", code, h.Get("Location"))
	}
	if k, _ := reg.Get(ctx, "gate-1"); k.State != registry.Retired {
		t.Fatalf("after the console's retire gate-1 is %s", k.State)
	}
	if _, body, _ := admin.get("/ops/fleet?retired=gate-1"); !strings.Contains(body, "设备 gate-1 已停用") || strings.Contains(body, `id="retire-gate-1"`) {
		t.Error("after retiring, the page lacks the notice or still offers to retire gate-1")
	}
	if code, body, _ := admin.post("/ops/fleet/retire", url.Values{"csrf": {token}, "kiosk": {"gate-99"}, "confirm": {"yes"}}); code != http.StatusBadRequest || !strings.Contains(body, "没有设备 gate-99") {
		t.Errorf("retire of an unknown kiosk = %d", code)
	}
	log := strings.Join(audited(t, env.store), "\n")
	for _, want := range []string{"admin kiosk_code huamu-1/gate-1 expires", "admin kiosk_retire huamu-1/gate-1"} {
		if !strings.Contains(log, want) {
			t.Errorf("audit log lacks %q:\n%s", want, log)
		}
	}
}

func TestFleetEnrollBeforeTLSSaysWhatToDo(t *testing.T) {
	t.Parallel()
	env, reg, _ := newFleetOps(t, fmt.Errorf("no CA in tls: run `hub tls init --name HOST`: %w", fs.ErrNotExist))
	admin := env.client(t)
	admin.signIn("admin", adminPW)
	token := admin.csrf("/ops/fleet")
	code, body, _ := admin.post("/ops/fleet/enroll", url.Values{"csrf": {token}, "site": {"huamu-1"}, "kiosk": {"gate-1"}})
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "hub tls init") {
		t.Errorf("enroll without TLS = %d, want 503 saying to run hub tls init", code)
	}
	if ks, _ := reg.List(t.Context()); len(ks) != 0 {
		t.Errorf("enroll without TLS registered %+v", ks)
	}
	damaged, reg2, _ := newFleetOps(t, errors.New("server certificate in tls: tls: failed to find any PEM data"))
	admin = damaged.client(t)
	admin.signIn("admin", adminPW)
	token = admin.csrf("/ops/fleet")
	code, body, _ = admin.post("/ops/fleet/enroll", url.Values{"csrf": {token}, "site": {"huamu-1"}, "kiosk": {"gate-1"}})
	if code != http.StatusInternalServerError || !strings.Contains(body, "failed to find any PEM data") {
		t.Errorf("enroll with damaged TLS files = %d, want 500 saying what is wrong", code)
	}
	if ks, _ := reg2.List(t.Context()); len(ks) != 0 {
		t.Errorf("enroll with damaged TLS registered %+v", ks)
	}
}

// Without a register (a console not wired to kiosks.db) the fleet page is
// as before: no state column, no forms.
func TestFleetPageWithoutRegister(t *testing.T) {
	t.Parallel()
	env := newOps(t, filepath.Join(t.TempDir(), "hub.db"))
	saveGaps(t, env.rec)
	admin := env.client(t)
	admin.signIn("admin", adminPW)
	_, body, _ := admin.get("/ops/fleet")
	if strings.Contains(body, "登记状态") || strings.Contains(body, `id="enroll-form"`) || !strings.Contains(body, "<td>gate-1</td>") {
		t.Errorf("fleet page without a register shows register things or lacks gate-1")
	}
}

// The fleet page says when the stored chains were last verified and what
// was found, to those who see every compound.
func TestFleetPageShowsTheLastVerify(t *testing.T) {
	t.Parallel()
	base := newOps(t, filepath.Join(t.TempDir(), "hub.db"))
	at := seedStart.Add(time.Hour)
	var findings atomic.Int64
	c, err := New(Config{Records: base.rec, Operators: base.store, Clock: base.clock,
		Verified: func() (time.Time, int, error) { return at, int(findings.Load()), nil }})
	if err != nil {
		t.Fatal(err)
	}
	env := &opsEnv{c: c, rec: base.rec, clock: base.clock, store: base.store, srv: httptest.NewServer(c)}
	t.Cleanup(func() { c.Stop(); env.srv.Close() })
	admin := env.client(t)
	admin.signIn("admin", adminPW)
	if _, body, _ := admin.get("/ops/fleet"); !strings.Contains(body, `class="notice" id="verified"`) || !strings.Contains(body, "已校验全部哈希链") {
		t.Errorf("a clean walk is not shown:\n%.2000s", body)
	}
	findings.Store(2)
	if _, body, _ := admin.get("/ops/fleet"); !strings.Contains(body, `class="warn" id="verified"`) || !strings.Contains(body, "有 2 条记录") {
		t.Errorf("findings are not shown as a warning:\n%.2000s", body)
	}
}
