package screen

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gatepost/gatepost/internal/need"
	"github.com/gatepost/gatepost/internal/testkit"
)

// serveAt serves a new screen on addr until the test ends or stop is
// called.
func serveAt(t *testing.T, addr string) (s *Server, stop func()) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	s = New(State{Kiosk: "gate-1"}, slog.New(slog.DiscardHandler))
	s.Serve(&fakeGate{}, testCompound())
	srv := &http.Server{Handler: s}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			t.Error(err)
		}
	}()
	stop = func() {
		srv.Close()
		<-done
	}
	t.Cleanup(stop)
	return s, stop
}

// In a real browser: the page's own POSTs work, also from a page left
// open across a restart (a new key); a stranger's page cannot silence
// an alert, neither by a form nor by fetch.
func TestBrowserPostsOnlyFromThePage(t *testing.T) {
	path := need.Program(t, "chromium", "chromium")
	addr := testkit.FreeAddr(t)
	first, stopFirst := serveAt(t, addr)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), chromedp.ExecPath(path), chromedp.UserDataDir(t.TempDir()),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelT := context.WithTimeout(ctx, 30*time.Second)
	defer cancelT()
	seen := func(seq int) string {
		t.Helper()
		got, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`post("/api/seen", {seq: %d}).then(r => JSON.stringify(r))`, seq),
			chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if err := chromedp.Do(ctx, chromedp.Navigate("http://"+addr+"/")); err != nil {
		t.Fatal(err)
	}
	if got := seen(3); got != `{"ok":true}` || first.State().Seen != 3 {
		t.Fatalf("the page's own POST = %s, seen %d", got, first.State().Seen)
	}
	// The daemon restarts with a new key; the page stays open.
	stopFirst()
	second, _ := serveAt(t, addr)
	if got := seen(4); got != `{"ok":true}` || second.State().Seen != 4 {
		t.Fatalf("the page's POST after a restart = %s, seen %d", got, second.State().Seen)
	}
	if second.Refused() != 1 {
		t.Errorf("Refused() = %d, want 1 (the old key, then the new one)", second.Refused())
	}
	// A stranger's page posts a form and a fetch at the screen.
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, `<form method="POST" action="http://%s/api/seen" enctype="text/plain"><input name='{"seq":99,"x":"' value='"}'></form>
<script>fetch("http://%s/api/seen", {method: "POST", mode: "no-cors", headers: {"Content-Type": "text/plain"}, body: '{"seq":98}'});
setTimeout(() => document.forms[0].submit(), 50);</script>`, addr, addr)
	}))
	defer evil.Close()
	if err := chromedp.Do(ctx, chromedp.Navigate(evil.URL)); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "both of the stranger's POSTs refused", func() bool { return second.Refused() >= 3 })
	if second.State().Seen != 4 {
		t.Errorf("a stranger's page set seen to %d", second.State().Seen)
	}
}
