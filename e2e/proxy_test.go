package e2e

import (
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// proxy is a TCP proxy between kiosk and broker that the tests use to cut
// every connection at once and to delay traffic.
type proxy struct {
	ln     net.Listener
	target string
	delay  atomic.Int64 // max extra delay per chunk, nanoseconds
	frozen atomic.Bool  // forward nothing and close nothing: a link gone silent

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	cuts  atomic.Int64
	wg    sync.WaitGroup
}

func startProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	p.wg.Go(p.accept)
	t.Cleanup(func() { ln.Close(); p.cut(); p.wg.Wait() })
	return p
}

func (p *proxy) url() string { return "tcp://" + p.ln.Addr().String() }

func (p *proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.DialTimeout("tcp", p.target, 2*time.Second)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns[c], p.conns[up] = struct{}{}, struct{}{}
		p.mu.Unlock()
		p.wg.Go(func() { p.pipe(up, c) })
		p.wg.Go(func() { p.pipe(c, up) })
	}
}

func (p *proxy) pipe(dst, src net.Conn) {
	defer func() {
		if p.frozen.Load() {
			return // the far end learns nothing; cut or cleanup closes it
		}
		dst.Close()
		src.Close()
		p.mu.Lock()
		delete(p.conns, dst)
		delete(p.conns, src)
		p.mu.Unlock()
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && p.frozen.Load() {
			continue
		}
		if n > 0 {
			if d := p.delay.Load(); d > 0 {
				time.Sleep(time.Duration(rand.Int64N(d))) // a slow link, not synchronisation
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if err != io.EOF {
				return
			}
			return
		}
	}
}

// freeze makes every connection through the proxy go silent without
// closing: the far side notices only by its keep-alive, as with a link
// that dies without a FIN or RST.
func (p *proxy) freeze() { p.frozen.Store(true) }

// cut closes every connection through the proxy, as a dropped link does.
func (p *proxy) cut() {
	p.mu.Lock()
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.cuts.Add(1)
}
