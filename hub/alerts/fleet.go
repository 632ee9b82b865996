package alerts

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/gatepost/gatepost/hub/operators"
	"github.com/gatepost/gatepost/hub/records"
	"github.com/gatepost/gatepost/protocol"
)

// fleetAlerts raises alerts from the fleet's state: a kiosk offline too
// long, a clock too far off, a sync gap that does not close, refused
// conflicting entries, a status list behind the hub's or too old.
func (f *Follower) fleetAlerts(ctx context.Context) error {
	ks, err := f.cfg.Records.Kiosks(ctx)
	if err != nil {
		return err
	}
	now := f.clock.Now()
	var raise []operators.Alert
	for _, k := range ks {
		for _, a := range f.kioskAlerts(ctx, k, now) {
			a.Site, a.Kiosk = k.Site, k.Kiosk
			raise = append(raise, a)
		}
	}
	lists, err := f.statusListAlerts(ctx, ks, now)
	if err != nil {
		return err
	}
	for _, a := range append(raise, lists...) {
		a.Raised = now
		if err := f.raise(ctx, a); err != nil {
			return err
		}
	}
	return nil
}

// kioskAlerts are one kiosk's fleet alerts at now, without site and kiosk.
func (f *Follower) kioskAlerts(ctx context.Context, k records.Kiosk, now time.Time) []operators.Alert {
	zone := f.cfg.Zone
	var ka []operators.Alert
	if !k.Online && k.StatusAt != nil && now.Sub(*k.StatusAt) > f.cfg.OfflineAfter {
		ka = append(ka, operators.Alert{Kind: protocol.AlertOffline,
			Key:    fmt.Sprintf("offline:%s:%d", k.Kiosk, k.StatusAt.UnixNano()),
			Detail: fmt.Sprintf("%s offline since %s", k.Kiosk, k.StatusAt.In(zone).Format(time.DateTime))})
	}
	if k.ClockSkewed {
		ka = append(ka, operators.Alert{Kind: protocol.AlertClockSkew,
			Key:    fmt.Sprintf("clock_skew:%s:%s", k.Kiosk, now.In(zone).Format(time.DateOnly)),
			Detail: fmt.Sprintf("%s clock off by %s", k.Kiosk, time.Duration(k.SkewMS)*time.Millisecond)})
	}
	if k.Highest > k.Contiguous && now.Sub(k.LastSeen) > f.cfg.GapAfter {
		ka = append(ka, operators.Alert{Kind: protocol.AlertSyncGap,
			Key:    fmt.Sprintf("sync_gap:%s:%d", k.Kiosk, k.Contiguous),
			Detail: fmt.Sprintf("%s: hub holds up to %d contiguously, highest %d", k.Kiosk, k.Contiguous, k.Highest)})
	}
	if a, ok := f.conflictAlert(ctx, k, now); ok {
		ka = append(ka, a)
	}
	return ka
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
func (f *Follower) conflictAlert(ctx context.Context, k records.Kiosk, now time.Time) (operators.Alert, bool) {
	if k.Conflicts == 0 {
		return operators.Alert{}, false
	}
	if f.conflictsSeen == nil {
		f.conflictsSeen = map[string]uint64{}
		if s, err := f.cfg.Store.Setting(ctx, conflictsSetting, ""); err == nil && s != "" {
			json.Unmarshal([]byte(s), &f.conflictsSeen) // unreadable: alert again, rather than not at all
		}
	}
	seen := f.conflictsSeen
	if k.Conflicts <= seen[k.Kiosk] {
		return operators.Alert{}, false
	}
	before := seen[k.Kiosk]
	seen[k.Kiosk] = k.Conflicts
	if b, err := json.Marshal(seen); err == nil {
		if err := f.cfg.Store.SetSetting(ctx, conflictsSetting, string(b)); err != nil {
			f.log.Error("alerts: conflict count not kept; the alert may come again", "err", err)
		}
	}
	return operators.Alert{Kind: protocol.AlertConflict,
		Key: fmt.Sprintf("conflict:%s:%s", k.Kiosk, now.In(f.cfg.Zone).Format("2006-01-02T15")),
		Detail: fmt.Sprintf("%s: %d more entries refused (%d in all) because the hub holds other entries under their numbers "+
			"(someone publishing as this kiosk, or a journal restored from an old copy); the hub kept its own",
			k.Kiosk, k.Conflicts-before, k.Conflicts)}, true
}
