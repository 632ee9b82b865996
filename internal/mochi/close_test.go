package mochi

import (
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// connectPacket is an MQTT 3.1.1 CONNECT with a clean session and the
// client id c.
var connectPacket = []byte{0x10, 13, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x02, 0, 60, 0, 1, 'c'}

// TestCloseWithClientsComingAndGoing closes a broker while clients connect
// and drop their connections, the moment mochi's own Close deadlocks on
// (a client being removed while Close lists the clients). 1,000 rounds;
// each Close must return.
func TestCloseWithClientsComingAndGoing(t *testing.T) {
	rounds := 1000
	if testing.Short() {
		rounds = 50
	}
	for i := range rounds {
		closeOnce(t, i)
	}
}

func closeOnce(t *testing.T, round int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := mqtt.New(&mqtt.Options{Logger: slog.New(slog.DiscardHandler)})
	if err := srv.AddHook(new(auth.AllowHook), nil); err != nil {
		t.Fatal(err)
	}
	mln := Listen(ln)
	if err := srv.AddListener(listeners.NewNet("t", mln)); err != nil {
		t.Fatal(err)
	}
	if err := srv.Serve(); err != nil {
		t.Fatal(err)
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	var connected atomic.Int64
	for range 4 {
		wg.Go(func() {
			for !stop.Load() {
				c, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second)
				if err != nil {
					return // the listener is closed
				}
				c.Write(connectPacket)
				buf := make([]byte, 4)
				c.SetReadDeadline(time.Now().Add(time.Second))
				if n, _ := c.Read(buf); n > 0 {
					connected.Add(1)
				}
				c.Close() // a client leaving: mochi removes it
			}
		})
	}
	for connected.Load() < 3 { // Close while clients come and go
		time.Sleep(100 * time.Microsecond) // pacing the churn, not synchronising
	}
	done := make(chan error, 1)
	go func() { done <- Close(srv, mln) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("round %d: Close = %v", round, err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("round %d: Close did not return within 10s: deadlocked", round)
	}
	stop.Store(true)
	wg.Wait()
}
