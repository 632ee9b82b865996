package alerts

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/gatepost/gatepost/hub/ingest"
	"github.com/gatepost/gatepost/hub/operators"
	"github.com/gatepost/gatepost/protocol"
)

// TestStatusListStaleFromHub feeds kiosks' presence through the hub's
// ingest and status lists through the downlink store, and watches the
// follower raise one status_list_stale alert per kiosk and condition: a
// kiosk behind the hub's list for over 30 minutes, or running a list
// issued more than a day ago.
func TestStatusListStaleFromHub(t *testing.T) {
	t.Parallel()
	env := newEnv(t, nil)
	ctx := t.Context()
	const site = "huamu-001"
	in := &ingest.Ingest{Store: env.rec, Clock: env.clock,
		Publish: func(context.Context, string, []byte) error { return nil }}
	presence := func(kiosk string, online bool, list uint64) {
		t.Helper()
		st := protocol.Status{Kiosk: kiosk, Site: site, Online: online}
		if online {
			st.Time = env.clock.Now()
		}
		if list > 0 {
			st.Downlink = map[string]uint64{"status_list": list, "keys": 1}
		}
		p, err := protocol.EncodeStatus(st)
		if err != nil {
			t.Fatal(err)
		}
		if err := in.Handle(ctx, protocol.StatusTopic(site, kiosk), p); err != nil {
			t.Fatal(err)
		}
	}
	listVersion := uint64(0)
	publish := func() uint64 {
		t.Helper()
		listVersion++
		payload, err := protocol.EncodeStatusList(protocol.StatusList{Site: site, Version: listVersion,
			Issued: env.clock.Now(), Entries: []protocol.StatusEntry{}})
		if err != nil {
			t.Fatal(err)
		}
		d, err := env.rec.IssueDownlink(ctx, site, "", protocol.DownlinkStatusList, payload, env.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		return d.Version
	}
	// poll runs the follower once and returns the kiosks with a
	// status_list_stale alert, one element per alert.
	poll := func(after time.Duration) []string {
		t.Helper()
		env.clock.Advance(after)
		env.poll(t)
		var got []string
		for _, state := range []string{operators.StateOpen, operators.StateAcked} {
			list, err := env.store.Alerts(ctx, 100, state)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range list {
				if a.Kind == protocol.AlertListStale {
					got = append(got, a.Kiosk)
				}
			}
		}
		slices.Sort(got)
		return got
	}
	check := func(when string, got []string, want ...string) {
		t.Helper()
		if !slices.Equal(got, want) {
			t.Errorf("%s: status_list_stale alerts for %q, want %q", when, got, want)
		}
	}

	v1 := publish()
	presence("gate-1", true, v1)
	presence("gate-2", true, v1)
	presence("gate-3", true, v1)
	presence("gate-3", false, 0) // its last will: offline, the offline alert speaks for it
	presence("gate-4", true, 0)  // online, has never received a list
	check("all on the hub's list, but gate-4", poll(0))

	v2 := publish()
	presence("gate-2", true, v2) // gets it at once
	check("just published", poll(time.Minute))
	check("behind for 21 minutes", poll(20*time.Minute))
	// The hub restarts: what the follower had seen is read back from
	// console.db, so the wait does not start again.
	env.f.lists.mu.Lock()
	env.f.lists.behind, env.f.lists.checked = nil, time.Time{}
	env.f.lists.mu.Unlock()
	check("behind for 36 minutes, across a restart", poll(15*time.Minute), "gate-1", "gate-4")
	// Presence every 20 s, still behind: no second alert.
	presence("gate-1", true, v1)
	check("behind for hours", poll(2*time.Hour), "gate-1", "gate-4")
	presence("gate-1", true, v2)
	presence("gate-4", true, v2)
	check("caught up", poll(time.Minute), "gate-1", "gate-4")

	// The hub stops re-issuing: at 24 h the kiosks' list is stale.
	check("list 23 h old", poll(20*time.Hour+20*time.Minute), "gate-1", "gate-4")
	check("list 25 h old", poll(2*time.Hour), "gate-1", "gate-1", "gate-2", "gate-4", "gate-4")
	check("list 26 h old", poll(time.Hour), "gate-1", "gate-1", "gate-2", "gate-4", "gate-4")
	v3 := publish()
	for _, k := range []string{"gate-1", "gate-2", "gate-4"} {
		presence(k, true, v3)
	}
	check("fresh list", poll(time.Hour), "gate-1", "gate-1", "gate-2", "gate-4", "gate-4")

	// Falling behind again is a new condition: a new alert, after the wait.
	v4 := publish()
	presence("gate-1", true, v4)
	presence("gate-4", true, v4)
	check("gate-2 just behind", poll(time.Minute), "gate-1", "gate-1", "gate-2", "gate-4", "gate-4")
	check("gate-2 behind 31 minutes", poll(31*time.Minute), "gate-1", "gate-1", "gate-2", "gate-2", "gate-4", "gate-4")

	// gate-3 returns after a day offline with list 1: the retained list
	// reaches it within seconds of connecting, so no alert yet.
	presence("gate-3", true, v1)
	check("gate-3 back", poll(time.Minute), "gate-1", "gate-1", "gate-2", "gate-2", "gate-4", "gate-4")
	presence("gate-3", true, v4)
	check("gate-3 caught up", poll(time.Hour), "gate-1", "gate-1", "gate-2", "gate-2", "gate-4", "gate-4")
}
