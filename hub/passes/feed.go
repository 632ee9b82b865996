package passes

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"github.com/gatepost/gatepost/internal/clock"
	"github.com/gatepost/gatepost/protocol"
)

// Defaults for the pass feed.
const (
	DefaultFeedEvery   = 15 * time.Second // how often the pass store is looked at for changes
	DefaultFeedRefresh = 6 * time.Hour    // re-issue an unchanged status list this often
)

// FeedHub is what the feed needs of the hub: the downlinks already issued
// (what was published before a restart counts as sent), the sites that
// have kiosks, and a way to issue and publish a downlink. hub/server
// provides it over hub/records and hub/downlink.
type FeedHub interface {
	Downlinks(ctx context.Context) ([]protocol.Downlink, error)
	KioskSites(ctx context.Context) ([]string, error)
	PublishDownlink(ctx context.Context, site, kiosk string, kind protocol.DownlinkKind,
		payload json.RawMessage) (protocol.Downlink, error)
}

// FeedConfig is what a Feed needs; Store and Hub are required.
type FeedConfig struct {
	Store   *Store
	Hub     FeedHub
	Every   time.Duration // default DefaultFeedEvery
	Refresh time.Duration // default DefaultFeedRefresh
	Clock   clock.Clock   // nil is the wall clock
	Logger  *slog.Logger  // nil discards
}

// Feed keeps every site's kiosks supplied with the pass-signing keys and
// the site's status list over the retained downlink. `hub passes revoke`
// and the like run as separate commands on the same data folder, so the
// feed looks at the pass store's versions every Every and publishes what
// changed. An unchanged status list is re-issued every Refresh with a
// fresh "issued" time, so a kiosk can tell a list that is merely unchanged
// from a link that is dead (it warns when its list is older than a day).
type Feed struct {
	cfg  FeedConfig
	clk  clock.Clock
	log  *slog.Logger
	sent map[feedKey]sentPayload
	// kick asks for a look now: the console changed the pass store in
	// this process. The poll stays, for changes made from the command
	// line.
	kick chan struct{}
}

// NewFeed returns a feed; Run starts it.
func NewFeed(cfg FeedConfig) *Feed {
	if cfg.Every <= 0 {
		cfg.Every = DefaultFeedEvery
	}
	if cfg.Refresh <= 0 {
		cfg.Refresh = DefaultFeedRefresh
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Feed{cfg: cfg, clk: clock.Or(cfg.Clock), log: log, kick: make(chan struct{}, 1)}
}

// Notify asks the feed to look at the pass store now. It never blocks: a
// look already asked for covers this change too.
func (f *Feed) Notify() {
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

// Run looks at once, then every Every and at each Notify, until ctx ends.
// Call it once.
func (f *Feed) Run(ctx context.Context) {
	f.sent = map[feedKey]sentPayload{}
	// What was published before a restart counts as sent.
	if ds, err := f.cfg.Hub.Downlinks(ctx); err == nil {
		for _, d := range ds {
			if d.Kiosk == "" && d.Kind != protocol.DownlinkConfig {
				f.sent[feedKey{d.Site, d.Kind}] = sentPayload{protocol.PayloadVersion(d.Payload), d.Issued}
			}
		}
	}
	t := f.clk.NewTicker(f.cfg.Every)
	defer t.Stop()
	for {
		f.once(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C():
		case <-f.kick:
		}
	}
}

// once publishes, for every site, the key set and status list if they
// changed or are due for re-issue.
func (f *Feed) once(ctx context.Context) {
	sites, err := f.sites(ctx)
	if err != nil {
		f.log.Warn("pass feed: cannot list sites", "err", err)
		return
	}
	ks, kerr := f.cfg.Store.KeySet(ctx)
	if kerr != nil && !errors.Is(kerr, ErrNoKey) {
		f.log.Warn("pass feed: cannot read the key set", "err", kerr)
	}
	for _, site := range sites {
		if kerr == nil {
			f.publish(ctx, site, protocol.DownlinkKeys, ks.Version, false, func() ([]byte, error) {
				return protocol.EncodeKeySet(ks)
			})
		}
		l, err := f.cfg.Store.StatusList(ctx, site)
		if err != nil {
			f.log.Warn("pass feed: cannot build the status list", "site", site, "err", err)
			continue
		}
		f.publish(ctx, site, protocol.DownlinkStatusList, l.Version, true, func() ([]byte, error) {
			return protocol.EncodeStatusList(l)
		})
	}
}

func (f *Feed) publish(ctx context.Context, site string, kind protocol.DownlinkKind, version uint64,
	reissue bool, encode func() ([]byte, error)) {
	k := feedKey{site, kind}
	last, ok := f.sent[k]
	if ok && last.version == version && (!reissue || f.clk.Since(last.at) < f.cfg.Refresh) {
		return
	}
	payload, err := encode()
	if err != nil {
		f.log.Error("pass feed: cannot encode", "site", site, "kind", kind, "err", err)
		return
	}
	d, err := f.cfg.Hub.PublishDownlink(ctx, site, "", kind, payload)
	if err != nil {
		// Stored but not published is fine: it goes out on reconnect.
		f.log.Warn("pass feed: publish", "site", site, "kind", kind, "err", err)
		if d.Version == 0 {
			return
		}
	}
	f.sent[k] = sentPayload{version, f.clk.Now()}
	f.log.Info("pass feed: published", "site", site, "kind", kind, "payload_version", version, "downlink_version", d.Version)
}

// sites are those with passes and those with kiosks.
func (f *Feed) sites(ctx context.Context) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	ps, err := f.cfg.Store.Sites(ctx)
	if err != nil {
		return nil, err
	}
	ks, err := f.cfg.Hub.KioskSites(ctx)
	if err != nil {
		return nil, err
	}
	ps = append(ps, ks...)
	for _, s := range ps {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out, nil
}
