package server

import (
	"context"
	"sync"
	"time"

	"github.com/gatepost/gatepost/hub/records"
	"github.com/gatepost/gatepost/internal/clock"
)

// DefaultVerifyEvery is how often the hub re-walks every stored chain
// (`hub verify`) by itself. New entries are checked as they arrive; the
// schedule catches what changed in storage after.
const DefaultVerifyEvery = 24 * time.Hour

// verifyFirstAfter is how long after the start the first walk waits, so a
// restart loop does not walk a large store each time.
const verifyFirstAfter = 10 * time.Minute

// verifier walks every stored chain on a schedule and keeps the last
// result for /metrics, the console and the log.
type verifier struct {
	rec   *records.SQLite
	clock clock.Clock
	every time.Duration

	mu   sync.Mutex
	at   time.Time // zero before the first walk
	last records.Verified
	err  error
}

// Last is the last walk's time and result (zero time before the first).
func (v *verifier) Last() (time.Time, records.Verified, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.at, v.last, v.err
}

// run walks once after verifyFirstAfter, then every v.every, until ctx ends.
func (v *verifier) run(ctx context.Context, s *Server) {
	t := clock.Or(v.clock).NewTimer(min(verifyFirstAfter, v.every))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C():
		}
		v.walk(ctx, s)
		t.Reset(v.every)
	}
}

func (v *verifier) walk(ctx context.Context, s *Server) {
	res, err := v.rec.Verify(ctx, "")
	if ctx.Err() != nil {
		return
	}
	v.mu.Lock()
	v.at, v.last, v.err = clock.Or(v.clock).Now(), res, err
	v.mu.Unlock()
	switch {
	case err != nil:
		s.log.Error("scheduled verify of the stored chains failed; run hub verify by hand", "err", err)
	case len(res.Findings) > 0:
		s.log.Error("security: hub storage was changed after the entries were received; run hub verify for the list",
			"findings", len(res.Findings), "first_kiosk", res.Findings[0].Kiosk, "first_seq", res.Findings[0].Seq,
			"problem", res.Findings[0].Problem)
	default:
		s.log.Info("scheduled verify: every stored chain holds", "kiosks", res.Kiosks, "entries", res.Entries, "took", res.Took)
	}
}

// verified is the console's view of the last walk.
func (s *Server) verified() (time.Time, int, error) {
	at, res, err := s.verify.Last()
	return at, len(res.Findings), err
}
