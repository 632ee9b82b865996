package uplink

import (
	"testing"
	"time"
)

func TestAckWait(t *testing.T) {
	const floor = 10 * time.Second
	t0 := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }

	w := NewAckWait(floor)
	if got := w.Wait(); got != floor {
		t.Fatalf("no ack measured: Wait = %v, want the floor %v", got, floor)
	}
	// Quick acks keep it at the floor.
	for i := range uint64(20) {
		w.Sent(100*(i+1), at(time.Duration(i)*time.Second))
		w.Acked(100*(i+1), at(time.Duration(i)*time.Second+40*time.Millisecond))
	}
	if got := w.Wait(); got != floor {
		t.Errorf("acks in 40 ms: Wait = %v, want the floor %v", got, floor)
	}

	// A draining hub: acks come 20 s after each batch. The wait grows
	// past them, to the cap at most.
	w = NewAckWait(floor)
	w.Sent(100, at(0))
	w.Sent(200, at(time.Second))
	w.Acked(200, at(21*time.Second)) // the newest batch it covers: 20 s
	if got, want := w.Wait(), 60*time.Second; got != want {
		t.Errorf("one ack after 20 s: Wait = %v, want %v (20 s + 4 x 10 s)", got, want)
	}
	w.Sent(300, at(22*time.Second))
	w.Acked(300, at(52*time.Second)) // 30 s
	if got, want := w.Wait(), MaxAckWaits*floor; got != want {
		t.Errorf("acks after 20 and 30 s: Wait = %v, want the cap %v", got, want)
	}

	// Karn's rule: batches sent again are not measured, however late
	// their acks; batches after them are.
	w = NewAckWait(floor)
	w.Sent(100, at(0))
	w.Sent(200, at(0))
	w.Resend(200)
	w.Sent(100, at(10*time.Second)) // the copies
	w.Sent(200, at(10*time.Second))
	w.Acked(200, at(50*time.Second))
	if got := w.Wait(); got != floor {
		t.Errorf("only resent batches acked: Wait = %v, want the floor %v", got, floor)
	}
	w.Sent(300, at(50*time.Second))
	w.Acked(300, at(65*time.Second)) // 15 s
	if got, want := w.Wait(), 45*time.Second; got != want {
		t.Errorf("a batch after the copies acked in 15 s: Wait = %v, want %v", got, want)
	}

	// Acks quick again: the wait comes back down to the floor.
	for i := range uint64(60) {
		w.Sent(400+100*i, at(100*time.Second))
		w.Acked(400+100*i, at(100*time.Second+50*time.Millisecond))
	}
	if got := w.Wait(); got != floor {
		t.Errorf("after many quick acks: Wait = %v, want the floor %v", got, floor)
	}
	// An ack that covers nothing measured changes nothing.
	w.Acked(100_000, at(time.Hour))
	if got := w.Wait(); got != floor {
		t.Errorf("an ack covering no batch measured: Wait = %v, want the floor %v", got, floor)
	}

	// Waits that pass with no ack progress double the next, up to the
	// cap; progress ends the doubling.
	for _, want := range []time.Duration{20 * time.Second, 40 * time.Second, 60 * time.Second, 60 * time.Second} {
		w.TimedOut()
		if got := w.Wait(); got != want {
			t.Errorf("after a wait without progress: Wait = %v, want %v", got, want)
		}
	}
	w.Acked(100_001, at(2*time.Hour))
	if got := w.Wait(); got != floor {
		t.Errorf("after ack progress: Wait = %v, want the floor %v again", got, floor)
	}
}
