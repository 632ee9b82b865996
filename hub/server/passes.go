package server

import (
	"context"
	"errors"
	"time"

	"github.com/gatepost/gatepost/hub/passes"
	"github.com/gatepost/gatepost/protocol"
)

// Defaults for the pass feed.
const (
	DefaultPassesEvery   = 15 * time.Second // how often the pass store is looked at for changes
	DefaultPassesRefresh = 6 * time.Hour    // re-issue an unchanged status list this often
)

// passFeed keeps every site's kiosks supplied with the pass-signing keys
// and the site's status list over the retained downlink. `hub passes
// revoke` and the like run as separate commands on the same data folder,
// so the feed looks at the pass store's versions every DefaultPassesEvery
// and publishes what changed. An unchanged status list is re-issued every
// DefaultPassesRefresh with a fresh "issued" time, so a kiosk can tell a
// list that is merely unchanged from a link that is dead (it warns when
// its list is older than a day).
type passFeed struct {
	srv     *Server
	store   *passes.Store
	every   time.Duration
	refresh time.Duration
	now     func() time.Time
	sent    map[feedKey]sentPayload
	// kick asks for a look now: the console changed the pass store in
	// this process. The poll stays, for changes made from the command
	// line.
	kick chan struct{}
}

func newPassFeed(srv *Server, store *passes.Store, every, refresh time.Duration) *passFeed {
	return &passFeed{srv: srv, store: store, every: every, refresh: refresh, now: time.Now, kick: make(chan struct{}, 1)}
}

// notify asks the feed to look at the pass store now. It never blocks: a
// look already asked for covers this change too.
func (f *passFeed) notify() {
	select {
	case f.kick <- struct{}{}:
	default:
	}
}

type feedKey struct {
	site string
	kind protocol.DownlinkKind
}

type sentPayload struct {
	version uint64 // the payload's own version (key set or status list)
	at      time.Time
}

func (f *passFeed) run(ctx context.Context) {
	f.sent = map[feedKey]sentPayload{}
	// What was published before a restart counts as sent.
	if ds, err := f.srv.store.Downlinks(ctx); err == nil {
		for _, d := range ds {
			if d.Kiosk == "" && d.Kind != protocol.DownlinkConfig {
				f.sent[feedKey{d.Site, d.Kind}] = sentPayload{protocol.PayloadVersion(d.Payload), d.Issued}
			}
		}
	}
	t := time.NewTicker(f.every)
	defer t.Stop()
	for {
		f.once(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-f.kick:
		}
	}
}

// once publishes, for every site, the key set and status list if they
// changed or are due for re-issue.
func (f *passFeed) once(ctx context.Context) {
	sites, err := f.sites(ctx)
	if err != nil {
		f.srv.log.Warn("pass feed: cannot list sites", "err", err)
		return
	}
	ks, kerr := f.store.KeySet(ctx)
	if kerr != nil && !errors.Is(kerr, passes.ErrNoKey) {
		f.srv.log.Warn("pass feed: cannot read the key set", "err", kerr)
	}
	for _, site := range sites {
		if kerr == nil {
			f.publish(ctx, site, protocol.DownlinkKeys, ks.Version, false, func() ([]byte, error) {
				return protocol.EncodeKeySet(ks)
			})
		}
		l, err := f.store.StatusList(ctx, site)
		if err != nil {
			f.srv.log.Warn("pass feed: cannot build the status list", "site", site, "err", err)
			continue
		}
		f.publish(ctx, site, protocol.DownlinkStatusList, l.Version, true, func() ([]byte, error) {
			return protocol.EncodeStatusList(l)
		})
	}
}

func (f *passFeed) publish(ctx context.Context, site string, kind protocol.DownlinkKind, version uint64,
	reissue bool, encode func() ([]byte, error)) {
	k := feedKey{site, kind}
	last, ok := f.sent[k]
	if ok && last.version == version && (!reissue || f.now().Sub(last.at) < f.refresh) {
		return
	}
	payload, err := encode()
	if err != nil {
		f.srv.log.Error("pass feed: cannot encode", "site", site, "kind", kind, "err", err)
		return
	}
	d, err := f.srv.PublishDownlink(ctx, site, "", kind, payload)
	if err != nil {
		// Stored but not published is fine: it goes out on reconnect.
		f.srv.log.Warn("pass feed: publish", "site", site, "kind", kind, "err", err)
		if d.Version == 0 {
			return
		}
	}
	f.sent[k] = sentPayload{version, f.now()}
	f.srv.log.Info("pass feed: published", "site", site, "kind", kind, "payload_version", version, "downlink_version", d.Version)
}

// sites are those with passes and those with kiosks.
func (f *passFeed) sites(ctx context.Context) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	ps, err := f.store.Sites(ctx)
	if err != nil {
		return nil, err
	}
	ks, err := f.srv.store.Kiosks(ctx)
	if err != nil {
		return nil, err
	}
	for _, k := range ks {
		ps = append(ps, k.Site)
	}
	for _, s := range ps {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out, nil
}
