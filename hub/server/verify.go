package server

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/gatepost/gatepost/hub/operators"
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
// result for /metrics, the console and the log: in memory, and its
// summary in the console's settings, so that with replicas every
// replica's console and /metrics show the walk of the one that ran it.
type verifier struct {
	rec      *records.SQLite
	settings *operators.Store // where the summary is kept, on a shared database; nil keeps none
	clock    clock.Clock
	every    time.Duration

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
	at := clock.Or(v.clock).Now()
	v.mu.Lock()
	v.at, v.last, v.err = at, res, err
	v.mu.Unlock()
	if v.settings != nil {
		rec := verifyRecord{At: at.UnixNano(), Kiosks: res.Kiosks, Entries: res.Entries, Findings: len(res.Findings)}
		if err != nil {
			rec.Error = err.Error()
		}
		b, _ := json.Marshal(rec)
		if werr := v.settings.SetSetting(ctx, verifySetting, string(b)); werr != nil {
			s.log.Warn("cannot keep the scheduled verify's result for the other replicas", "err", werr)
		}
	}
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

// verifySetting is the console setting that holds the last walk's
// summary (verifyRecord, JSON).
const verifySetting = "verify.last"

// verifyRecord is the last walk's summary, as kept for every replica.
type verifyRecord struct {
	At       int64  `json:"at"` // unix nanoseconds
	Kiosks   int    `json:"kiosks"`
	Entries  int    `json:"entries"`
	Findings int    `json:"findings"`
	Error    string `json:"error,omitempty"`
}

// verified is the console's and /metrics' view of the last walk: the one
// kept in the settings, whichever replica ran it, or this hub's own when
// that is later (or the settings cannot be read).
func (s *Server) verified() (time.Time, int, error) {
	at, res, err := s.verify.Last()
	if s.verify.settings == nil {
		return at, len(res.Findings), err
	}
	raw, serr := s.verify.settings.Setting(context.Background(), verifySetting, "")
	var rec verifyRecord
	if serr != nil || raw == "" || json.Unmarshal([]byte(raw), &rec) != nil || !time.Unix(0, rec.At).After(at) {
		return at, len(res.Findings), err
	}
	var kept error
	if rec.Error != "" {
		kept = errors.New(rec.Error)
	}
	return time.Unix(0, rec.At), rec.Findings, kept
}
