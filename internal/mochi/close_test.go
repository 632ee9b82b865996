package mochi

import (
	"errors"
	"io"
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

// gatedListener's Accept returns a connection when gate is closed, even
// after Close: an accept that completed as the listener was closed.
type gatedListener struct {
	net.Listener
	gate chan struct{}
	conn net.Conn
}

func (g *gatedListener) Accept() (net.Conn, error) {
	<-g.gate
	return g.conn, nil
}

func (g *gatedListener) Close() error { return nil }

// A connection whose accept completes once drain has begun is closed and
// never handed to mochi: drain found nothing pending and let Close go on,
// so mochi would set it up while its server closes (a race the detector
// caught under load).
func TestAcceptAfterDrainIsRefused(t *testing.T) {
	client, server := net.Pipe()
	defer client.Close()
	g := &gatedListener{gate: make(chan struct{}), conn: server}
	mln := Listen(g)
	got := make(chan error, 1)
	go func() {
		c, err := mln.Accept()
		if c != nil {
			c.Close()
		}
		got <- err
	}()
	mln.drain(time.Second) // nothing pending yet: returns at once
	close(g.gate)
	if err := <-got; !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Accept after drain = %v, want net.ErrClosed", err)
	}
	// The connection was closed: its other end reads EOF.
	client.SetReadDeadline(time.Now().Add(10 * time.Second)) // a bound on failure only
	if _, err := client.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Errorf("the refused connection's peer reads %v, want EOF", err)
	}
}
