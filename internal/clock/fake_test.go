package clock

import (
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestFakeTimerFiresOnlyWhenAdvancedPastDeadline(t *testing.T) {
	c := NewFake(time.Time{})
	start := c.Now()
	tm := c.NewTimer(10 * time.Second)
	c.Advance(9 * time.Second)
	select {
	case <-tm.C():
		t.Fatal("timer fired at 9s, want 10s")
	default:
	}
	c.Advance(time.Second)
	select {
	case got := <-tm.C():
		if want := start.Add(10 * time.Second); !got.Equal(want) {
			t.Fatalf("fired with %v, want %v", got, want)
		}
	default:
		t.Fatal("timer did not fire at 10s")
	}
	if n := c.Waiters(); n != 0 {
		t.Fatalf("Waiters() = %d after a one-shot fired, want 0", n)
	}
}

func TestFakeStopAndReset(t *testing.T) {
	c := NewFake(time.Time{})
	tm := c.NewTimer(time.Second)
	if !tm.Stop() {
		t.Fatal("Stop of an armed timer = false, want true")
	}
	if tm.Stop() {
		t.Fatal("second Stop = true, want false")
	}
	c.Advance(time.Hour)
	select {
	case <-tm.C():
		t.Fatal("a stopped timer fired")
	default:
	}
	tm.Reset(time.Minute)
	c.Advance(time.Minute)
	select {
	case <-tm.C():
	default:
		t.Fatal("a reset timer did not fire")
	}
}

func TestFakeTickerAndOrder(t *testing.T) {
	c := NewFake(time.Time{})
	start := c.Now()
	tk := c.NewTicker(3 * time.Second)
	defer tk.Stop()
	var order []string
	done := make(chan struct{})
	c.AfterFunc(4*time.Second, func() { close(done) })
	c.Advance(3 * time.Second)
	got := <-tk.C()
	order = append(order, got.Sub(start).String())
	c.Advance(3 * time.Second) // passes the AfterFunc at 4s, then ticks at 6s
	<-done
	got = <-tk.C()
	order = append(order, got.Sub(start).String())
	if order[0] != "3s" || order[1] != "6s" {
		t.Fatalf("ticks at %v, want [3s 6s]", order)
	}
	if now := c.Since(start); now != 6*time.Second {
		t.Fatalf("Since(start) = %v, want 6s", now)
	}
}

func TestFakeWaitersChangedSignalsArming(t *testing.T) {
	c := NewFake(time.Time{})
	ch := c.WaitersChanged()
	fired := make(chan struct{})
	go func() {
		<-c.After(time.Second)
		close(fired)
	}()
	<-ch // the goroutine armed its timer: now advancing cannot miss it
	c.BlockUntil(1)
	c.Advance(time.Second)
	select {
	case <-fired:
	case <-time.After(10 * time.Second):
		t.Fatal("the waiting goroutine never woke")
	}
}

func TestRealClockIsWallClock(t *testing.T) {
	c := Or(nil)
	if d := c.Since(time.Now()); d > time.Second || d < -time.Second {
		t.Fatalf("Real().Since(now) = %v", d)
	}
	tm := c.NewTimer(time.Millisecond)
	<-tm.C()
}
