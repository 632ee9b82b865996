package console

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gatepost/gatepost/hub/operators"
	"github.com/gatepost/gatepost/hub/records"
)

// The follower: the console reads entries received since its cursor
// (kept in console.db) rather than being called by ingest. Ingest stays
// unaware of the console, a console restart resumes where it stopped, and
// an entry imported from a bundle raises its alert like a live one.

// cursorSetting is where the follower's position is kept.
const cursorSetting = "follow.cursor"

// firstLookBack is how far back a follower with no cursor starts: old
// alerts from a freshly attached hub would only bury today's.
const firstLookBack = 24 * time.Hour

// alertReasons maps the checkpoint's reason codes to alert kinds, most
// urgent first: an entry raises one alert, of its first matching kind.
var alertReasons = []struct{ reason, kind string }{
	{"fever_confirmed", "fever"},
	{"fever", "fever"},
	{"pass_forged", "pass_forged"},
	{"pass_revoked", "pass_revoked"},
	{"home_observation", "home_observation"},
	{"key_region_returnee", "key_region"},
	{"post_understaffed", "post_understaffed"},
	{"status_list_stale", "status_list_stale"},
}

// perHour are kinds that the same condition repeats on every entry while
// it lasts: one alert per gate per hour, not one per person.
var perHour = map[string]bool{"post_understaffed": true, "status_list_stale": true}

// raisedWhenNotUrgent are the reasons that raise an alert on an entry
// that is not urgent: the perHour kinds' reasons.
var raisedWhenNotUrgent = func() []string {
	var rs []string
	for _, ar := range alertReasons {
		if perHour[ar.kind] {
			rs = append(rs, ar.reason)
		}
	}
	return rs
}()

// Follow polls for new entries and fleet trouble until ctx ends.
func (c *Console) Follow(ctx context.Context) {
	if c.ops == nil {
		return
	}
	t := time.NewTicker(c.ops.cfg.PollEvery)
	defer t.Stop()
	var purged time.Time
	for {
		if _, err := c.Poll(ctx); err != nil && ctx.Err() == nil {
			c.log.Error("console: follow entries", "err", err)
		}
		if now := c.ops.cfg.Now(); now.Sub(purged) >= purgeEvery {
			purged = now
			if err := c.Purge(ctx); err != nil && ctx.Err() == nil {
				c.log.Error("console: purge", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-c.ops.stopped:
			return
		case <-t.C:
		}
	}
}

// purgeEvery is how often the follower enforces the retention settings.
const purgeEvery = time.Hour

// Purge removes personal details past each kind's retention (console.db's
// settings, as `hub purge` sets them) and audits what it removed.
func (c *Console) Purge(ctx context.Context) error {
	o := c.ops
	retention, err := o.store.Retention(ctx)
	if err != nil {
		return err
	}
	purged, err := operators.PurgeByRetention(ctx, o.rec, retention, o.cfg.Now(), false)
	for _, p := range purged {
		if p.Entries > 0 {
			o.store.Audit(ctx, "(hub)", "purge", fmt.Sprintf("%s: %d", p.Kind, p.Entries))
		}
	}
	return err
}

// Poll reads what arrived since the last poll, raises alerts and feeds
// the live view; it returns how many entries it read. With nobody
// watching the live view it reads only the entries that may raise an
// alert and passes over the rest undecoded: a kiosk back from a week
// offline drains tens of thousands of ordinary entries. Tests call Poll
// directly instead of waiting for the ticker.
func (c *Console) Poll(ctx context.Context) (int, error) {
	o := c.ops
	cur, err := o.cursor(ctx)
	if err != nil {
		return 0, err
	}
	total := 0
	for {
		watched := o.live.watched()
		var list []records.Stored
		var next records.Cursor
		if watched {
			list, next, err = o.rec.Since(ctx, cur, 500)
		} else {
			list, next, err = o.rec.UrgentSince(ctx, cur, 500, raisedWhenNotUrgent)
		}
		if err != nil {
			return total, err
		}
		for _, e := range list {
			if err := o.raiseFor(ctx, e); err != nil {
				return total, err
			}
			if watched {
				o.live.send(event{Name: "entry", Data: liveEntry(masked(e), o.cfg.Zone)})
			}
		}
		total += len(list)
		if next == cur {
			break
		}
		cur = next
		if err := o.store.SetSetting(ctx, cursorSetting, fmt.Sprintf("%d %d %s", cur.Received, cur.Seq, cur.Kiosk)); err != nil {
			return total, err
		}
	}
	return total, o.fleetAlerts(ctx)
}

func (o *ops) cursor(ctx context.Context) (records.Cursor, error) {
	s, err := o.store.Setting(ctx, cursorSetting, "")
	if err != nil || s == "" {
		return records.Cursor{Received: o.cfg.Now().Add(-firstLookBack).UnixNano()}, err
	}
	var c records.Cursor
	if _, err := fmt.Sscanf(s, "%d %d %s", &c.Received, &c.Seq, &c.Kiosk); err != nil {
		return records.Cursor{}, fmt.Errorf("follower cursor %q: %w", s, err)
	}
	return c, nil
}

func (o *ops) raiseFor(ctx context.Context, e records.Stored) error {
	kind := ""
	for _, ar := range alertReasons {
		if slices.Contains(e.Reasons, ar.reason) {
			kind = ar.kind
			break
		}
	}
	if kind == "" && e.Urgent() {
		kind = "alert"
	}
	if kind == "" || (!e.Urgent() && !perHour[kind]) {
		return nil
	}
	key := fmt.Sprintf("entry:%s:%d", e.Kiosk, e.Seq)
	if perHour[kind] {
		key = fmt.Sprintf("%s:%s:%s", kind, e.Kiosk, e.Received.Format("2006-01-02T15"))
	}
	detail := fmt.Sprintf("%s #%d %s %s", e.Kiosk, e.Seq, strings.Join(e.Reasons, " "), e.Unit)
	if e.Temperature != nil {
		detail += fmt.Sprintf(" %.1f °C", e.Temperature.ScreenedC)
	}
	isNew, err := o.store.Raise(ctx, operators.Alert{Key: key, Kind: kind, Site: e.Site, Kiosk: e.Kiosk,
		Detail: detail, Raised: e.Received})
	if err != nil {
		return err
	}
	if isNew {
		o.live.send(event{Name: "alert", Data: map[string]any{"kind": kind, "kiosk": e.Kiosk, "detail": detail, "state": "open"}})
	}
	return nil
}

// fleetAlerts raises alerts from the fleet's state: a kiosk offline too
// long, a clock too far off, a sync gap that does not close, a status
// list behind the hub's or too old.
func (o *ops) fleetAlerts(ctx context.Context) error {
	ks, err := o.rec.Kiosks(ctx)
	if err != nil {
		return err
	}
	now := o.cfg.Now()
	var raise []operators.Alert
	for _, k := range ks {
		var ka []operators.Alert
		if !k.Online && k.StatusAt != nil && now.Sub(*k.StatusAt) > o.cfg.OfflineAfter {
			ka = append(ka, operators.Alert{Kind: "offline",
				Key:    fmt.Sprintf("offline:%s:%d", k.Kiosk, k.StatusAt.UnixNano()),
				Detail: fmt.Sprintf("%s offline since %s", k.Kiosk, k.StatusAt.In(o.cfg.Zone).Format(time.DateTime))})
		}
		if k.ClockSkewed {
			ka = append(ka, operators.Alert{Kind: "clock_skew",
				Key:    fmt.Sprintf("clock_skew:%s:%s", k.Kiosk, now.In(o.cfg.Zone).Format(time.DateOnly)),
				Detail: fmt.Sprintf("%s clock off by %s", k.Kiosk, time.Duration(k.SkewMS)*time.Millisecond)})
		}
		if k.Highest > k.Contiguous && now.Sub(k.LastSeen) > o.cfg.GapAfter {
			ka = append(ka, operators.Alert{Kind: "sync_gap",
				Key:    fmt.Sprintf("sync_gap:%s:%d", k.Kiosk, k.Contiguous),
				Detail: fmt.Sprintf("%s: hub holds up to %d contiguously, highest %d", k.Kiosk, k.Contiguous, k.Highest)})
		}
		if a, ok := o.conflictAlert(ctx, k, now); ok {
			ka = append(ka, a)
		}
		for _, a := range ka {
			a.Site, a.Kiosk = k.Site, k.Kiosk
			raise = append(raise, a)
		}
	}
	lists, err := o.statusListAlerts(ctx, ks, now)
	if err != nil {
		return err
	}
	for _, a := range append(raise, lists...) {
		a.Raised = now
		isNew, err := o.store.Raise(ctx, a)
		if err != nil {
			return err
		}
		if isNew {
			o.live.send(event{Name: "alert", Data: map[string]any{"kind": a.Kind, "kiosk": a.Kiosk, "detail": a.Detail, "state": "open"}})
		}
	}
	return nil
}

func liveEntry(r row, zone *time.Location) map[string]any {
	return map[string]any{
		"received": r.Received.In(zone).Format(time.DateTime), "site": r.Site, "kiosk": r.Kiosk, "seq": r.Seq,
		"kind": r.Kind, "who": r.Who, "unit": r.Unit, "decision": r.Decision, "reasons": strings.Join(r.Reasons, ", "),
		"urgent": r.Urgent,
	}
}

// event is one server-sent event.
type event struct {
	Name string
	Data any
}

// broadcaster hands events to every live stream; a slow stream loses
// events rather than holding up the follower.
type broadcaster struct {
	mu     sync.Mutex
	subs   map[chan event]struct{}
	closed bool
	done   chan struct{}
}

func newBroadcaster() *broadcaster {
	return &broadcaster{subs: map[chan event]struct{}{}, done: make(chan struct{})}
}

func (b *broadcaster) subscribe() (chan event, func()) {
	ch := make(chan event, 64)
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.closed {
		b.subs[ch] = struct{}{}
	}
	return ch, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		delete(b.subs, ch)
	}
}

// watched reports whether anyone is following the live view.
func (b *broadcaster) watched() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs) > 0
}

func (b *broadcaster) send(e event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch := range b.subs {
		select {
		case ch <- e:
		default:
		}
	}
}

func (b *broadcaster) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.closed {
		b.closed = true
		close(b.done)
	}
}

// serveEvents is the live feed: new entries (masked) and alert changes.
func (o *ops) serveEvents(w http.ResponseWriter, r *http.Request) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	ch, cancel := o.live.subscribe()
	defer cancel()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, ": live\n\n")
	flusher.Flush()
	keepAlive := time.NewTicker(25 * time.Second)
	defer keepAlive.Stop()
	var id int
	for {
		select {
		case <-r.Context().Done():
			return
		case <-o.live.done:
			return
		case <-keepAlive.C:
			fmt.Fprint(w, ": keep-alive\n\n")
		case e := <-ch:
			data, err := json.Marshal(e.Data)
			if err != nil {
				continue
			}
			id++
			// JSON has no raw newlines, so one data line is the whole event.
			fmt.Fprintf(w, "id: %s\nevent: %s\ndata: %s\n\n", strconv.Itoa(id), e.Name, data)
		}
		flusher.Flush()
	}
}

// conflictsSetting keeps, per kiosk, the conflict count the follower has
// already alerted on (JSON, kiosk -> count), so that a hub restart does not
// raise the same conflicts again.
const conflictsSetting = "follow.conflicts"

// conflictAlert raises an alert when a kiosk's count of refused,
// conflicting entries has grown since the last alert: a security event
// (entries with numbers the hub holds, but other contents). A burst of
// them is one alert per kiosk per hour, saying how many.
// The counts are read from console.db once, then kept in memory and
// written back when one grows: fleetAlerts runs every second.
func (o *ops) conflictAlert(ctx context.Context, k records.Kiosk, now time.Time) (operators.Alert, bool) {
	if k.Conflicts == 0 {
		return operators.Alert{}, false
	}
	if o.conflictsSeen == nil {
		o.conflictsSeen = map[string]uint64{}
		if s, err := o.store.Setting(ctx, conflictsSetting, ""); err == nil && s != "" {
			json.Unmarshal([]byte(s), &o.conflictsSeen) // unreadable: alert again, rather than not at all
		}
	}
	seen := o.conflictsSeen
	if k.Conflicts <= seen[k.Kiosk] {
		return operators.Alert{}, false
	}
	before := seen[k.Kiosk]
	seen[k.Kiosk] = k.Conflicts
	if b, err := json.Marshal(seen); err == nil {
		if err := o.store.SetSetting(ctx, conflictsSetting, string(b)); err != nil {
			o.log.Error("console: conflict count not kept; the alert may come again", "err", err)
		}
	}
	return operators.Alert{Kind: "conflict",
		Key: fmt.Sprintf("conflict:%s:%s", k.Kiosk, now.In(o.cfg.Zone).Format("2006-01-02T15")),
		Detail: fmt.Sprintf("%s: %d more entries refused (%d in all) because the hub holds other entries under their numbers "+
			"(someone publishing as this kiosk, or a journal restored from an old copy); the hub kept its own",
			k.Kiosk, k.Conflicts-before, k.Conflicts)}, true
}
