package e2e

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gatepost/gatepost/hardware/sim"
	"github.com/gatepost/gatepost/internal/clock"
	"github.com/gatepost/gatepost/internal/need"
	"github.com/gatepost/gatepost/internal/testkit"
	"github.com/gatepost/gatepost/kiosk/config"
	"github.com/gatepost/gatepost/kiosk/daemon"
	"github.com/gatepost/gatepost/protocol"
)

// screenshots, when set, is where the browser tests save the guard
// screen's pictures for docs/screenshots (1024x600):
//
//	go test ./e2e -run TestScreen -screenshots $PWD/docs/screenshots
var screenshots = flag.String("screenshots", "", "folder to save the guard screen's screenshots in")

// screenWait bounds every wait for the page: generous for a 2-core
// machine shared with other work, still far below the suite's bound.
const screenWait = 15 * time.Second

// screenGate is a kiosk daemon run in process on simulated devices held by
// the test (so they outlive a daemon restart), with its own pass keys.
type screenGate struct {
	t       *testing.T
	cfg     config.Config
	scanner *sim.Scanner
	therm   *sim.Thermometer
	priv    ed25519.PrivateKey
	now     time.Time

	mu      sync.Mutex
	tempC   float64
	d       *daemon.Daemon
	stop    context.CancelFunc
	stopped chan error
}

// newScreenGate prepares a kiosk; edit its cfg, then call run. revoked
// pass ids go on the status list.
func newScreenGate(t *testing.T, revoked ...string) *screenGate {
	t.Helper()
	g := &screenGate{t: t, tempC: 36.5}
	var err error
	g.therm, err = sim.NewThermometer(sim.ThermometerOptions{Object: func() float64 {
		g.mu.Lock()
		defer g.mu.Unlock()
		return g.tempC
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.therm.Close() })
	g.scanner, err = sim.NewScanner(sim.ScannerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.scanner.Close() })

	cfg := config.Demo()
	cfg.Site, cfg.DataDir = "huamu-1", t.TempDir()
	cfg.MQTT.Broker = "tcp://" + testkit.FreeAddr(t) // nobody there: offline unless a test starts a hub
	cfg.Screen.Listen = testkit.FreeAddr(t)          // fixed, so a restarted daemon is where the page reconnects
	cfg.Thermometer.Simulate, cfg.Thermometer.Port = false, g.therm.Path()
	cfg.Scanner.Simulate, cfg.Scanner.Port = false, g.scanner.Path()
	cfg.Rules.RecheckAfter = 0 // the second reading may follow at once
	// The tests scan one pass twice within a second (sign in, then record
	// a disinfection; a fever's second reading with no rest): that is two
	// scans, not the scanner repeating one.
	cfg.Scanner.DuplicateWindow = 0
	cfg.Rules.KeyRegions = []string{"湖北"}
	g.cfg = cfg

	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	g.priv, g.now = priv, time.Now().UTC().Truncate(time.Second)
	keys, err := protocol.EncodeKeySet(protocol.KeySet{Version: 1, Issued: g.now.Add(-time.Minute),
		Keys: []protocol.PublicKey{{ID: "k1", Key: pub, Created: g.now.Add(-time.Hour)}}})
	if err != nil {
		t.Fatal(err)
	}
	entries := []protocol.StatusEntry{}
	for _, id := range revoked {
		entries = append(entries, protocol.StatusEntry{Pass: id, Status: protocol.StatusRevoked, Reason: "reported lost"})
	}
	list, err := protocol.EncodeStatusList(protocol.StatusList{Site: "huamu-1", Version: 3, Issued: g.now.Add(-time.Minute), Entries: entries})
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(cfg.DataDir, "keys.json"), keys, 0o644)
	os.WriteFile(filepath.Join(cfg.DataDir, "status-list.json"), list, 0o644)
	return g
}

// pass signs a pass of this gate's compound.
func (g *screenGate) pass(id string, kind protocol.PassKind, unit, name string) string {
	g.t.Helper()
	text, err := protocol.SignPass(protocol.Pass{Key: "k1", ID: id, Kind: kind, Site: "huamu-1", Unit: unit, Name: name,
		ValidFrom: g.now.Add(-time.Hour), ValidUntil: g.now.Add(24 * time.Hour)}, g.priv)
	if err != nil {
		g.t.Fatal(err)
	}
	return text
}

// run starts the daemon (again, after stopAndWait) on the same data.
func (g *screenGate) run() {
	g.t.Helper()
	d, err := daemon.Open(g.cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), clock.Real())
	if err != nil {
		g.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	g.d, g.stop, g.stopped = d, cancel, make(chan error, 1)
	go func() {
		err := d.Run(ctx)
		if cerr := d.Close(); err == nil {
			err = cerr
		}
		g.stopped <- err
	}()
	g.t.Cleanup(g.stopAndWait)
}

func (g *screenGate) stopAndWait() {
	if g.stop == nil {
		return
	}
	g.stop()
	g.stop = nil
	select {
	case err := <-g.stopped:
		if err != nil {
			g.t.Errorf("daemon stopped with %v", err)
		}
	case <-time.After(10 * time.Second):
		g.t.Error("daemon did not stop within 10s")
	}
}

func (g *screenGate) url() string { return "http://" + g.cfg.Screen.Listen + "/" }

func (g *screenGate) setTemp(c float64) {
	g.mu.Lock()
	g.tempC = c
	g.mu.Unlock()
}

// scan makes the simulated scanner read code, as a person holding a pass
// to it would.
func (g *screenGate) scan(code string) {
	g.t.Helper()
	if err := g.scanner.Send(code); err != nil {
		g.t.Fatal(err)
	}
}

// entries is the journal as it stands.
func (g *screenGate) entries() []protocol.Entry {
	g.t.Helper()
	return journaledEntries(g.t, g.cfg.DataDir)
}

// waitEntries waits until the journal holds n entries and returns them.
func (g *screenGate) waitEntries(n int) []protocol.Entry {
	g.t.Helper()
	var es []protocol.Entry
	testkit.EventuallyState(g.t, screenWait, fmt.Sprintf("%d entries in the journal", n), func() (bool, string) {
		es = g.entries()
		return len(es) >= n, fmt.Sprintf("%d entries", len(es))
	})
	return es
}

// browser is one headless Chromium for the whole test binary: starting
// one costs about a second; each test opens its own tab.
var browser struct {
	once   sync.Once
	ctx    context.Context
	cancel context.CancelFunc
	err    error
}

// chromiumFlags are those of a kiosk (see docs/kiosk-screen.md) plus what
// a headless test needs; nothing reaches the network.
func chromiumFlags(path, profile string) []chromedp.ExecAllocatorOption {
	return []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(profile),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-translate", true),
		chromedp.Flag("disable-features", "Translate,MediaRouter"),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("mute-audio", true),
		chromedp.Flag("lang", "zh-CN"),
		chromedp.WindowSize(1024, 600),
	}
}

// tab opens the guard's page of g in a fresh tab of the shared browser,
// with its own storage (as a kiosk's only tab has), and waits until the
// page has drawn the daemon's state.
func tab(t *testing.T, g *screenGate) context.Context {
	t.Helper()
	path := need.Program(t, "chromium", "chromium fonts-wqy-microhei")
	browser.once.Do(func() {
		// Under bin, which TestMain removes; the browser itself dies with
		// the test binary (chromedp starts it with a parent-death signal).
		profile, err := os.MkdirTemp(bin, "chromium-profile-")
		if err != nil {
			browser.err = err
			return
		}
		actx, _ := chromedp.NewExecAllocator(context.Background(), chromiumFlags(path, profile)...)
		bctx, cancel := chromedp.NewContext(actx)
		browser.ctx, browser.cancel = bctx, cancel
		browser.err = chromedp.Do(bctx) // starts the browser
	})
	if browser.err != nil {
		t.Fatalf("start chromium: %v", browser.err)
	}
	ctx, cancel := chromedp.NewContext(browser.ctx)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1024, 600), chromedp.Navigate(g.url())); err != nil {
		t.Fatalf("open %s: %v", g.url(), err)
	}
	waitJS(t, ctx, "page drawn", `window.gateRendered > 0 && document.getElementById("post-count").textContent !== ""`)
	return ctx
}

// waitJS polls a JavaScript expression in the page until it is true.
func waitJS(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, screenWait)
	defer cancel()
	_, err := chromedp.Run(wctx, chromedp.Poll[bool]("!!("+expr+")", chromedp.WithPollingInterval(20*time.Millisecond)))
	if err != nil {
		state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText.slice(0, 600)`))
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("not within %s", screenWait)
		}
		t.Fatalf("%s (%s): %v; page shows:\n%s", what, expr, err, state)
	}
}

// js evaluates expr in the page.
func js[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// tap clicks the element sel, as a finger would.
func tap(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, screenWait)
	defer cancel()
	if err := chromedp.Do(wctx, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible)); err != nil {
		t.Fatalf("tap %s: %v", sel, err)
	}
}

// tapText taps the visible button whose text starts with text.
func tapText(t *testing.T, ctx context.Context, text string) {
	t.Helper()
	sel := fmt.Sprintf(`//button[starts-with(normalize-space(.), %q) and not(ancestor::*[@hidden])]`, text)
	wctx, cancel := context.WithTimeout(ctx, screenWait)
	defer cancel()
	if err := chromedp.Do(wctx, chromedp.Click(chromedp.Search(sel), chromedp.NodeVisible)); err != nil {
		t.Fatalf("tap the button %q: %v", text, err)
	}
}

// resultShows waits for the full-screen result of decision whose text
// contains all of want.
func resultShows(t *testing.T, ctx context.Context, decision string, want ...string) {
	t.Helper()
	cond := fmt.Sprintf(`!document.getElementById("result").hidden && document.getElementById("result").classList.contains(%q)`, decision)
	for _, w := range want {
		cond += fmt.Sprintf(` && document.getElementById("result").innerText.includes(%q)`, w)
	}
	waitJS(t, ctx, "result "+decision+" "+strings.Join(want, ", "), cond)
}

// shoot saves a screenshot when -screenshots is set.
func shoot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	if *screenshots == "" {
		return
	}
	// Let fonts load and the frame paint: wait for them in the page, not
	// for wall-clock time.
	chromedp.Run(ctx, chromedp.Evaluate[bool](`document.fonts.ready.then(() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true)))))`,
		chromedp.EvalAwaitPromise))
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(*screenshots, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// setLang puts the page in lang ("zh-CN" or "en") through its toggle.
func setLang(t *testing.T, ctx context.Context, lang string) {
	t.Helper()
	if js[string](t, ctx, `document.documentElement.lang`) != lang {
		tap(t, ctx, "#lang")
	}
	waitJS(t, ctx, "language "+lang, fmt.Sprintf(`document.documentElement.lang === %q`, lang))
}
