// Package mochi holds what gatepost does around the mochi-mqtt broker that
// mochi v2.7.9 does not do itself: a Close that neither deadlocks nor
// panics while clients come and go. The hub's embedded broker and the
// tests' broker both listen through Listener and close through Close.
//
// hub/broker and internal/testkit import mochi; it imports nothing of ours.
package mochi

import (
	"net"
	"sync"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// Listener is the net.Listener to hand mochi (listeners.NewNet): it counts
// connections accepted and not yet taken up by mochi, so that Close can
// wait for them. mochi registers a connection (ClientsWg.Add) in the
// goroutine that first reads from it; an Add racing Close's
// ClientsWg.Wait panics ("WaitGroup is reused before previous Wait has
// returned").
type Listener struct {
	net.Listener

	mu       sync.Mutex
	pending  int           // accepted, not yet read from or closed
	idle     chan struct{} // closed when pending falls to 0
	draining bool          // drain began: nothing more is handed to mochi
}

// Listen wraps ln.
func Listen(ln net.Listener) *Listener { return &Listener{Listener: ln} }

// Accept accepts a connection and counts it pending until mochi first
// reads from it or it is closed. A connection whose accept completed as
// drain began is closed, not handed on: drain may already have found
// nothing pending, and mochi would set it up while its server closes.
func (l *Listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	if l.draining {
		l.mu.Unlock()
		c.Close()
		return nil, net.ErrClosed
	}
	l.pending++
	l.mu.Unlock()
	return &conn{Conn: c, l: l}, nil
}

func (l *Listener) taken() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pending--
	if l.pending == 0 && l.idle != nil {
		close(l.idle)
		l.idle = nil
	}
}

// drain stops accepting and waits, at most max, until every accepted
// connection has been taken up by mochi.
func (l *Listener) drain(max time.Duration) {
	l.Listener.Close()
	l.mu.Lock()
	l.draining = true
	if l.pending == 0 {
		l.mu.Unlock()
		return
	}
	if l.idle == nil {
		l.idle = make(chan struct{})
	}
	idle := l.idle
	l.mu.Unlock()
	t := time.NewTimer(max)
	defer t.Stop()
	select {
	case <-idle:
	case <-t.C: // mochi's own goroutine is stuck: close anyway
	}
}

type conn struct {
	net.Conn
	l    *Listener
	once sync.Once
}

func (c *conn) Read(b []byte) (int, error) {
	c.once.Do(c.l.taken) // mochi has registered it: it reads after ClientsWg.Add
	return c.Conn.Read(b)
}

func (c *conn) Close() error {
	c.once.Do(c.l.taken)
	return c.Conn.Close()
}

// Close stops srv, served on lns (nil ones skipped):
//   - It stops accepting and waits for the connections already accepted
//     to be registered, so none registers while mochi waits for them to
//     end (the panic above).
//   - It closes the listeners with a closer that disconnects a snapshot of
//     the clients taken under one lock (Clients.GetAll). mochi's own Close
//     lists them with Clients.GetByListener, which takes the read lock
//     twice: a client being removed in between deadlocks both (upstream
//     issue 488; the fix, PR 489, is not released). mochi's Close then
//     finds every listener closed and never reaches GetByListener.
func Close(srv *mqtt.Server, lns ...*Listener) error {
	for _, ln := range lns {
		if ln != nil {
			ln.drain(5 * time.Second)
		}
	}
	srv.Listeners.CloseAll(func(listener string) {
		for _, cl := range srv.Clients.GetAll() {
			if cl.Net.Listener == listener && !cl.Closed() {
				_ = srv.DisconnectClient(cl, packets.ErrServerShuttingDown)
			}
		}
	})
	return srv.Close()
}
