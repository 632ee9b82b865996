package alerts

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/gatepost/gatepost/hub/operators"
	"github.com/gatepost/gatepost/hub/records"
	"github.com/gatepost/gatepost/protocol"
)

// A kiosk raises status_list_stale on its entries only when its own check
// finds the list too old, which takes a day by default and says nothing
// while the gate is quiet. The follower also compares, from the hub's
// side, the status-list version each online kiosk reports in its presence
// with the newest the hub has published for its site.

// statusListEvery bounds how often the follower reads the published lists:
// their issue time is read out of bodies that can be large.
const statusListEvery = time.Minute

// listWatch remembers since when each kiosk has been seen behind. It is
// kept in console.db (listBehindSetting) as well, so that a hub restart
// does not start the wait again and delay the alert.
type listWatch struct {
	mu      sync.Mutex
	checked time.Time
	behind  map[string]listBehind // by kiosk
}

type listBehind struct {
	runs  uint64    // the version the kiosk reports
	since time.Time // when the follower first saw it behind on that version
}

// listBehindSetting is where listWatch.behind is kept: JSON, kiosk ->
// {runs, since in unix ns}.
const listBehindSetting = "follow.list_behind"

type storedBehind struct {
	Runs  uint64 `json:"runs"`
	Since int64  `json:"since"`
}

// loadBehind reads what the follower had seen before a restart; a
// missing or unreadable setting starts empty (the wait starts again).
func (f *Follower) loadBehind(ctx context.Context) map[string]listBehind {
	out := map[string]listBehind{}
	s, err := f.cfg.Store.Setting(ctx, listBehindSetting, "")
	if err != nil || s == "" {
		return out
	}
	var m map[string]storedBehind
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		f.log.Warn("alerts: unreadable status-list watch; starting it again", "err", err)
		return out
	}
	for k, v := range m {
		out[k] = listBehind{runs: v.Runs, since: time.Unix(0, v.Since)}
	}
	return out
}

func (f *Follower) saveBehind(ctx context.Context, behind map[string]listBehind) error {
	m := make(map[string]storedBehind, len(behind))
	for k, v := range behind {
		m[k] = storedBehind{Runs: v.runs, Since: v.since.UnixNano()}
	}
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return f.cfg.Store.SetSetting(ctx, listBehindSetting, string(b))
}

// newestLists returns the newest status list published for each kiosk:
// a kiosk keeps the highest version of its site's and its own (the hub
// numbers both scopes together).
func newestLists(pubs []records.Published, ks []records.Kiosk) map[string]records.Published {
	forSite := map[string]records.Published{}
	forKiosk := map[string]records.Published{}
	for _, p := range pubs {
		if p.Kiosk == "" {
			forSite[p.Site] = p
		} else {
			forKiosk[p.Kiosk] = p
		}
	}
	out := map[string]records.Published{}
	for _, k := range ks {
		newest, ok := forSite[k.Site]
		if own, has := forKiosk[k.Kiosk]; has && own.Site == k.Site && (!ok || own.Version > newest.Version) {
			newest, ok = own, true
		}
		if ok {
			out[k.Kiosk] = newest
		}
	}
	return out
}

// statusListAlerts returns the alerts to raise for kiosks whose status
// list is behind the hub's, or too old, at most once per statusListEvery.
// The keys name the version the kiosk runs (behind) or the hub's version
// (too old), so a condition that lasts is one alert, and a kiosk that
// catches up and falls behind again raises a new one.
func (f *Follower) statusListAlerts(ctx context.Context, ks []records.Kiosk, now time.Time) ([]operators.Alert, error) {
	w := &f.lists
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.checked.IsZero() && now.Sub(w.checked) < statusListEvery {
		return nil, nil
	}
	pubs, err := f.cfg.Records.Published(ctx, protocol.DownlinkStatusList)
	if err != nil {
		return nil, err
	}
	w.checked = now
	if w.behind == nil {
		w.behind = f.loadBehind(ctx)
	}
	changed := false
	newest := newestLists(pubs, ks)
	var out []operators.Alert
	stillBehind := map[string]bool{}
	for _, k := range ks {
		pub, ok := newest[k.Kiosk]
		if !ok || !k.Online || k.StatusAt == nil {
			continue // nothing published for it, or offline: its offline alert speaks
		}
		runs := k.Downlink[string(protocol.DownlinkStatusList)]
		switch {
		case runs < pub.Version:
			stillBehind[k.Kiosk] = true
			b, seen := w.behind[k.Kiosk]
			if !seen || b.runs != runs {
				b = listBehind{runs: runs, since: now}
				w.behind[k.Kiosk] = b
				changed = true
			}
			if now.Sub(b.since) > f.cfg.ListBehindAfter {
				out = append(out, f.behindAlert(k, runs, pub, b))
			}
		case runs == pub.Version && now.Sub(pub.Issued) > f.cfg.ListMaxAge:
			out = append(out, f.oldAlert(k, runs, pub))
		}
	}
	for kiosk := range w.behind {
		if !stillBehind[kiosk] {
			delete(w.behind, kiosk)
			changed = true
		}
	}
	if changed {
		if err := f.saveBehind(ctx, w.behind); err != nil {
			return out, err
		}
	}
	return out, nil
}

func (f *Follower) behindAlert(k records.Kiosk, runs uint64, pub records.Published, b listBehind) operators.Alert {
	return operators.Alert{Kind: protocol.AlertListStale, Site: k.Site, Kiosk: k.Kiosk,
		Key: fmt.Sprintf("status_list_behind:%s:%d", k.Kiosk, runs),
		Detail: fmt.Sprintf("%s runs status list version %d; the hub published %d (seen behind since %s)",
			k.Kiosk, runs, pub.Version, b.since.In(f.cfg.Zone).Format(time.DateTime))}
}

func (f *Follower) oldAlert(k records.Kiosk, runs uint64, pub records.Published) operators.Alert {
	return operators.Alert{Kind: protocol.AlertListStale, Site: k.Site, Kiosk: k.Kiosk,
		Key: fmt.Sprintf("status_list_old:%s:%d", k.Kiosk, runs),
		Detail: fmt.Sprintf("%s runs status list version %d, issued %s: older than %s, the hub has not re-issued it",
			k.Kiosk, runs, pub.Issued.In(f.cfg.Zone).Format(time.DateTime), f.cfg.ListMaxAge)}
}
