package console

import "sync"

// broadcaster hands events to every live stream; a slow stream loses
// events rather than holding up the follower.
type broadcaster struct {
	mu     sync.Mutex
	subs   map[chan event]struct{}
	closed bool
	done   chan struct{}
}

func newBroadcaster() *broadcaster {
	return &broadcaster{subs: map[chan event]struct{}{}, done: make(chan struct{})}
}

func (b *broadcaster) subscribe() (chan event, func()) {
	ch := make(chan event, 64)
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.closed {
		b.subs[ch] = struct{}{}
	}
	return ch, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		delete(b.subs, ch)
	}
}

// watched reports whether anyone is following the live view.
func (b *broadcaster) watched() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs) > 0
}

func (b *broadcaster) send(e event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch := range b.subs {
		select {
		case ch <- e:
		default:
		}
	}
}

func (b *broadcaster) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.closed {
		b.closed = true
		close(b.done)
	}
}
