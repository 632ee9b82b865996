package records

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/gatepost/gatepost/protocol"
)

// SeedPlan describes synthetic but realistic traffic for tests, benchmarks
// and screenshots: several compounds, one or more gates each, the mix of
// residents, visitors, deliveries, shifts and disinfections a gate sees.
type SeedPlan struct {
	Sites    int       // compounds, named huamu-001...
	Kiosks   int       // gates per compound
	Entries  int       // in all
	Start    time.Time // first entry; entries spread evenly over Span
	Span     time.Duration
	Seed     uint64 // for the random mix; same seed, same data
	Visitors []string
}

// Seed writes plan's entries straight into the store in one transaction:
// a million rows in seconds rather than the hours batches would take. For
// tests and benchmarks only; a real hub gets entries from ingest.
func (s *SQLite) Seed(ctx context.Context, plan SeedPlan) error {
	if plan.Sites < 1 || plan.Kiosks < 1 || plan.Entries < 0 || plan.Span <= 0 {
		return fmt.Errorf("seed: bad plan %+v", plan)
	}
	rnd := rand.New(rand.NewPCG(plan.Seed, 7))
	tz := time.FixedZone("CST", 8*3600)
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	defer tx.Rollback()
	q := cachedTx{tx, s.stmts}
	insert, err := q.PrepareContext(ctx, `INSERT INTO entries (kiosk, seq, site, id, time, kind, decision, body, received_at, unit, fever, alerting)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (kiosk, seq) DO NOTHING`)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	defer insert.Close()
	nk := plan.Sites * plan.Kiosks
	seqs := make([]int64, nk)
	step := plan.Span / time.Duration(max(plan.Entries, 1))
	names := plan.Visitors
	if len(names) == 0 {
		names = []string{"张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄强"}
	}
	for k := range nk {
		site := fmt.Sprintf("huamu-%03d", k/plan.Kiosks+1)
		if _, err := q.ExecContext(ctx, `INSERT INTO kiosks (kiosk, site, last_seen) VALUES (?, ?, 0)
			ON CONFLICT (kiosk) DO NOTHING`, fmt.Sprintf("%s-gate-%d", site, k%plan.Kiosks+1), site); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
	}
	counts := siteDayCounts{}
	for i := range plan.Entries {
		k := rnd.IntN(nk)
		site := fmt.Sprintf("huamu-%03d", k/plan.Kiosks+1)
		kiosk := fmt.Sprintf("%s-gate-%d", site, k%plan.Kiosks+1)
		seqs[k]++
		at := plan.Start.Add(time.Duration(i) * step).In(tz)
		e := seedEntry(rnd, names, kiosk, uint64(seqs[k]), at, uint64(i))
		body, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("seed: %w", err)
		}
		received := at.Add(time.Duration(200+rnd.IntN(2000)) * time.Millisecond)
		kioskTime := at.Format(time.RFC3339Nano)
		res, err := insert.ExecContext(ctx, kiosk, seqs[k], site, e.ID, kioskTime,
			string(e.Kind), string(e.Decision), string(body), received.UnixNano(), e.Unit, feverColumn(e.Reasons), alertingColumn(e))
		if err != nil {
			return fmt.Errorf("seed: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("seed: %w", err)
		} else if n == 1 {
			counts.add(site, kioskTime, e)
		}
	}
	if err := counts.write(ctx, q); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	last := plan.Start.Add(plan.Span).UnixNano()
	for k, seq := range seqs {
		site := fmt.Sprintf("huamu-%03d", k/plan.Kiosks+1)
		kiosk := fmt.Sprintf("%s-gate-%d", site, k%plan.Kiosks+1)
		if _, err := q.ExecContext(ctx, `INSERT INTO kiosks (kiosk, site, contiguous, highest, last_seen, batches, online, status_at)
			VALUES (?, ?, ?, ?, ?, 1, 1, ?) ON CONFLICT (kiosk) DO UPDATE SET contiguous = excluded.contiguous,
			highest = excluded.highest, last_seen = excluded.last_seen`, kiosk, site, seq, seq, last, last); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
	}
	return tx.Commit()
}

func seedEntry(rnd *rand.Rand, names []string, kiosk string, seq uint64, at time.Time, n uint64) protocol.Entry {
	e := protocol.Entry{
		Kiosk: kiosk, Seq: seq, Time: at,
		ID:       fmt.Sprintf("0190d6e4-7a4b-7cc0-8b8e-%012x", n),
		Kind:     protocol.KindCheck,
		Decision: protocol.DecisionAllow,
		Reasons:  []string{protocol.ReasonPassValid, protocol.ReasonTemperatureNormal},
		Unit:     fmt.Sprintf("%d-%d%02d", 1+rnd.IntN(12), 1+rnd.IntN(6), 1+rnd.IntN(4)),
		Pass:     fmt.Sprintf("P%06d", rnd.IntN(4000)),
	}
	temp := 36.0 + rnd.Float64()*0.9
	switch r := rnd.IntN(1000); {
	case r < 15: // fever
		temp = 37.4 + rnd.Float64()*1.2
		e.Decision, e.Reasons = protocol.DecisionAlert, []string{protocol.ReasonPassValid, protocol.ReasonFeverConfirmed}
	case r < 20:
		e.Decision, e.Reasons = protocol.DecisionAlert, []string{protocol.ReasonPassRevoked}
	case r < 23:
		e.Decision, e.Reasons = protocol.DecisionAlert, []string{protocol.ReasonPassForged}
		e.Pass, e.Unit = "", ""
	case r < 30:
		e.Decision, e.Reasons = protocol.DecisionAlert, []string{protocol.ReasonHomeObservation}
	case r < 130: // visitor
		e.Kind, e.Pass = protocol.KindVisitor, ""
		v := &protocol.Visitor{
			Name:     names[rnd.IntN(len(names))],
			Contact:  fmt.Sprintf("13%d%08d", rnd.IntN(10), rnd.IntN(100000000)),
			From:     "浦东新区",
			Visiting: e.Unit,
			Purpose:  "探亲",
		}
		// "visitor_registered" is no code a kiosk sends (it sends
		// protocol.ReasonVisitor); kept so seeded data stays as it was.
		e.Reasons = []string{"visitor_registered", protocol.ReasonTemperatureNormal}
		if rnd.IntN(10) == 0 {
			v.Returnee, v.Returned = true, at.AddDate(0, 0, -rnd.IntN(14)).Format(time.DateOnly)
			v.Origin = "江苏"
			if rnd.IntN(4) == 0 {
				v.Origin = "湖北"
				e.Decision, e.Reasons = protocol.DecisionAlert, []string{protocol.ReasonKeyRegionReturnee}
			}
		}
		e.Visitor = v
	case r < 210:
		e.Kind, e.Decision, e.Reasons, e.Pass = protocol.KindDelivery, protocol.DecisionRecord, nil, ""
		e.Count = 1 + rnd.IntN(3)
		return e
	case r < 240:
		e.Kind, e.Decision, e.Reasons = protocol.KindShiftIn, protocol.DecisionRecord, nil
		if rnd.IntN(2) == 0 {
			e.Kind = protocol.KindShiftOut
		}
		e.OnPost = []string{e.Pass, fmt.Sprintf("P%06d", rnd.IntN(4000))}
		return e
	case r < 260:
		e.Kind, e.Decision, e.Reasons, e.Pass = protocol.KindDisinfection, protocol.DecisionRecord, nil, ""
		e.Area = []string{"lift buttons", "handrails", "stairwell doors"}[rnd.IntN(3)]
		return e
	}
	e.Temperature = &protocol.Reading{ObjectC: temp - 0.2, ScreenedC: temp}
	return e
}
