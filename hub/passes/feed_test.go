package passes

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gatepost/gatepost/internal/testkit"
	"github.com/gatepost/gatepost/protocol"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeHub records what the feed publishes.
type fakeHub struct {
	mu        sync.Mutex
	published []protocol.Downlink
}

func (h *fakeHub) Downlinks(context.Context) ([]protocol.Downlink, error) { return nil, nil }
func (h *fakeHub) KioskSites(context.Context) ([]string, error) {
	return []string{"other-site", ""}, nil
}

func (h *fakeHub) PublishDownlink(_ context.Context, site, kiosk string, kind protocol.DownlinkKind,
	payload json.RawMessage) (protocol.Downlink, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	d := protocol.Downlink{Site: site, Kiosk: kiosk, Kind: kind, Version: uint64(len(h.published) + 1), Payload: payload}
	h.published = append(h.published, d)
	return d, nil
}

// count is how many of kind were published for site.
func (h *fakeHub) count(site string, kind protocol.DownlinkKind) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, d := range h.published {
		if d.Site == site && d.Kind == kind {
			n++
		}
	}
	return n
}

func TestFeedPublishesChangesAndRefreshes(t *testing.T) {
	eachEngine(t, testFeedPublishesChangesAndRefreshes)
}

func testFeedPublishesChangesAndRefreshes(t *testing.T, e testEngine) {
	s, clk, dir, dsn := e.openShared(t)
	ctx := t.Context()
	if _, err := s.InitKey(ctx); err != nil {
		t.Fatal(err)
	}
	p, err := s.Issue(ctx, request("3-502", "王小明"))
	if err != nil {
		t.Fatal(err)
	}
	hub := &fakeHub{}
	f := NewFeed(FeedConfig{Store: s, Hub: hub, Clock: clk, Refresh: time.Minute})
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); f.Run(runCtx) }()
	defer func() { stop(); <-done }()

	// At start: keys and status list for the site with passes and the
	// site with kiosks; none for the kiosk without a site.
	testkit.Eventually(t, "keys and lists of both sites", func() bool {
		return hub.count("huamu-1", protocol.DownlinkStatusList) == 1 && hub.count("other-site", protocol.DownlinkStatusList) == 1
	})
	for _, site := range []string{"huamu-1", "other-site"} {
		if n := hub.count(site, protocol.DownlinkKeys); n != 1 {
			t.Errorf("keys published %d times for %s, want 1", n, site)
		}
	}
	if n := hub.count("", protocol.DownlinkStatusList); n != 0 {
		t.Errorf("status list published %d times for the empty site", n)
	}

	// A revocation, announced: the site's list goes out again, not the keys.
	if err := s.Revoke(ctx, p.ID, "lost"); err != nil {
		t.Fatal(err)
	}
	f.Notify()
	testkit.Eventually(t, "the changed list", func() bool { return hub.count("huamu-1", protocol.DownlinkStatusList) == 2 })

	// After Refresh the unchanged lists are re-issued; the keys are not.
	clk.Advance(time.Minute)
	testkit.Eventually(t, "lists re-issued", func() bool { return hub.count("other-site", protocol.DownlinkStatusList) == 2 })
	for _, site := range []string{"huamu-1", "other-site"} {
		if n := hub.count(site, protocol.DownlinkKeys); n != 1 {
			t.Errorf("keys published %d times for %s after the refresh, want 1", n, site)
		}
	}

	// A key rotated by another hub on the database (a replica, or
	// `hub keys rotate`), unannounced: the new key set goes out at the
	// feed's next look.
	other := openAt(t, dsn, dir, clk)
	if _, err := other.RotateKey(ctx); err != nil {
		t.Fatal(err)
	}
	clk.Advance(DefaultFeedEvery)
	testkit.Eventually(t, "the rotated key set", func() bool {
		return hub.count("huamu-1", protocol.DownlinkKeys) == 2 && hub.count("other-site", protocol.DownlinkKeys) == 2
	})
}
