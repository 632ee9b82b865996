package alerts

import (
	"context"
	"time"

	"github.com/gatepost/gatepost/hub/records"
)

// window reads the entries committed after a cursor in receipt order,
// looking back settle behind it each time. With one hub, entries are
// committed in receipt order and settle is 0. With replicas sharing a
// database, an entry received (and stamped) by one replica can commit
// after a later one stamped by another, or a replica's clock can run a
// little behind: a cursor that moved past its stamp would never see it.
// Re-reading the last settle finds such entries; the ones already
// handed on are remembered (seen) and passed over.
type window struct {
	settle time.Duration
	cur    records.Cursor // the furthest position read
	seen   map[seenKey]int64
}

type seenKey struct {
	kiosk string
	seq   int64
}

// read hands fn, in order, the entries read after the window's start that
// it has not handed on before, watched or only the urgent ones, and moves
// the cursor past them; moved is called with each new furthest cursor.
func (w *window) read(ctx context.Context, rec Records, watched bool, fn func(records.Stored) error,
	moved func(records.Cursor) error) (int, error) {
	from := w.cur
	if w.settle > 0 {
		from = records.Cursor{Received: w.cur.Received - int64(w.settle)}
	}
	total := 0
	for {
		var list []records.Stored
		var next records.Cursor
		var err error
		if watched {
			list, next, err = rec.Since(ctx, from, 500)
		} else {
			list, next, err = rec.UrgentSince(ctx, from, 500)
		}
		if err != nil {
			return total, err
		}
		for _, e := range list {
			if w.settle > 0 {
				k := seenKey{e.Kiosk, int64(e.Seq)}
				if _, ok := w.seen[k]; ok {
					continue
				}
				w.seen[k] = e.Received.UnixNano()
			}
			if err := fn(e); err != nil {
				return total, err
			}
			total++
		}
		if next == from {
			break
		}
		from = next
		if after(next, w.cur) {
			w.cur = next
			if err := moved(next); err != nil {
				return total, err
			}
		}
	}
	w.forget()
	return total, nil
}

// forget drops what was seen before the window's reach.
func (w *window) forget() {
	if w.settle <= 0 {
		return
	}
	edge := w.cur.Received - int64(w.settle)
	for k, received := range w.seen {
		if received < edge {
			delete(w.seen, k)
		}
	}
}

// after reports whether cursor a is past b in receipt order.
func after(a, b records.Cursor) bool {
	if a.Received != b.Received {
		return a.Received > b.Received
	}
	if a.Kiosk != b.Kiosk {
		return a.Kiosk > b.Kiosk
	}
	return a.Seq > b.Seq
}
