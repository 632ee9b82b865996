package testkit

import (
	"sync/atomic"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreAnyFunction("github.com/eclipse/paho%2emqtt%2egolang.(*client).Disconnect.func1"))
}

func TestEventuallyWaitsForAnotherGoroutine(t *testing.T) {
	var ready atomic.Bool
	go func() {
		time.Sleep(20 * time.Millisecond) // the other side takes its time
		ready.Store(true)
	}()
	Eventually(t, "ready", ready.Load)
	if !ready.Load() {
		t.Fatal("Eventually returned before the condition held")
	}
}

func TestEventuallyFailsAtItsDeadline(t *testing.T) {
	ft := &fakeTB{TB: t}
	EventuallyWithin(ft, 30*time.Millisecond, "never", func() bool { return false })
	if !ft.failed {
		t.Fatal("EventuallyWithin did not fail on a condition that never holds")
	}
}

// fakeTB records Fatalf instead of ending the test.
type fakeTB struct {
	testing.TB
	failed bool
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Fatalf(string, ...any) {
	f.failed = true
}

func TestBrokerCarriesMessages(t *testing.T) {
	b := StartBroker(t)
	c := paho.NewClient(paho.NewClientOptions().AddBroker(b.URL).SetClientID("t"))
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("connect %s: %v", b.URL, tok.Error())
	}
	defer c.Disconnect(0)
	got := make(chan string, 1)
	if tok := c.Subscribe("a/b", 1, func(_ paho.Client, m paho.Message) { got <- string(m.Payload()) }); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	c.Publish("a/b", 1, false, "hello").WaitTimeout(5 * time.Second)
	select {
	case s := <-got:
		if s != "hello" {
			t.Fatalf("got %q, want hello", s)
		}
	case <-time.After(Wait):
		t.Fatal("the broker did not deliver")
	}
}

// FreeAddr never names the same address twice in one process, even where
// the kernel would hand a just-closed port out again.
func TestFreeAddrNeverRepeats(t *testing.T) {
	seen := map[string]bool{}
	for range 2000 {
		a := FreeAddr(t)
		if seen[a] {
			t.Fatalf("FreeAddr gave %s twice", a)
		}
		seen[a] = true
	}
}
