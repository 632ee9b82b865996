package main

import (
	"testing"
	"time"
)

// A kiosk with a batch wait holds a partial batch of live entries until
// its first entry is that old, and sends a full batch, or the backlog, at
// once: as the uplink's mqtt.batch_wait.
func TestPartialWait(t *testing.T) {
	k := newFleetKiosk("site-1", "gate-1", "", "", nil)
	now := time.Now()
	k.appended[1] = now
	k.appended[2] = now.Add(-time.Minute)
	for _, c := range []struct {
		what      string
		wait      time.Duration
		sent, to  uint64
		min, most time.Duration
	}{
		{"no batch wait", 0, 0, 1, 0, 0},
		{"a fresh entry", 10 * time.Second, 0, 1, 9 * time.Second, 10 * time.Second},
		{"an entry older than the wait", 10 * time.Second, 1, 2, 0, 0},
		{"a full batch", 10 * time.Second, 0, fleetBatchSize, 0, 0},
		{"the backlog (no commit time)", 10 * time.Second, 5, 6, 0, 0},
	} {
		k.batchWait = c.wait
		if got := k.partialWait(c.sent, c.to); got < c.min || got > c.most {
			t.Errorf("%s: partialWait(%d, %d) = %s, want %s to %s", c.what, c.sent, c.to, got, c.min, c.most)
		}
	}
}

func TestFleetVariantsBatchWait(t *testing.T) {
	vs, err := fleetVariants(fleetOptions{engines: []string{"sqlite"}, batchWaits: []time.Duration{5 * time.Second}})
	if err != nil || len(vs) != 2 || vs[1].name != "sqlite-wait-5s" || vs[1].batchWait != 5*time.Second {
		t.Errorf("fleetVariants with -batch-wait 5s = %+v, %v; want sqlite, then sqlite-wait-5s", vs, err)
	}
	for _, bad := range []time.Duration{0, 2 * time.Minute} {
		if _, err := fleetVariants(fleetOptions{engines: []string{"sqlite"}, batchWaits: []time.Duration{bad}}); err == nil {
			t.Errorf("-batch-wait %s accepted; the kiosk takes above 0 up to 1m", bad)
		}
	}
}
