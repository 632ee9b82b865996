package registry

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gatepost/gatepost/protocol"
)

// DefaultCheckEvery is how often a Cache asks whether the register
// changed.
const DefaultCheckEvery = time.Second

// cacheKiosks bounds the kiosks a Cache holds; past it, it starts again.
const cacheKiosks = 100_000

// Cache answers ingest's two questions of every message, Admit and the
// kiosk's enrolled key, from what it read of the register, and reads the
// register again only when its generation has changed: one small read
// every CheckEvery for the whole fleet, instead of one per kiosk and
// message (at rush hour a kiosk sends every two or three seconds, longer
// than ingest keeps an answer). A change by any process (`hub kiosks
// retire`, another replica) is seen within CheckEvery.
type Cache struct {
	Store      *Store
	CheckEvery time.Duration // 0: DefaultCheckEvery

	mu      sync.Mutex
	gen     int64
	checked time.Time // when gen was read; zero: never
	kiosks  map[string]admission
}

// admission is what the register holds of a kiosk for ingest's
// questions; found false for one it does not hold.
type admission struct {
	found bool
	site  string
	state State
	key   ed25519.PublicKey // nil until enrolled
}

// Admit is Store.Admit's answer, as of at most CheckEvery ago.
func (c *Cache) Admit(ctx context.Context, site, kiosk string) error {
	k, err := c.kiosk(ctx, kiosk)
	if err != nil {
		return fmt.Errorf("admit %s/%s: %w", site, kiosk, err)
	}
	return k.admits(site, kiosk)
}

// Key is the key kiosk enrolled with (nil while it is pending), or
// ErrUnknown for a kiosk the register does not hold, as of at most
// CheckEvery ago.
func (c *Cache) Key(ctx context.Context, kiosk string) (ed25519.PublicKey, error) {
	k, err := c.kiosk(ctx, kiosk)
	if err != nil {
		return nil, fmt.Errorf("the key of kiosk %s: %w", kiosk, err)
	}
	if !k.found {
		return nil, fmt.Errorf("%w: %s", ErrUnknown, kiosk)
	}
	return k.key, nil
}

// kiosk is the register's row for kiosk, read under the current
// generation.
func (c *Cache) kiosk(ctx context.Context, kiosk string) (admission, error) {
	gen, err := c.current(ctx)
	if err != nil {
		return admission{}, err
	}
	c.mu.Lock()
	k, ok := c.kiosks[kiosk]
	c.mu.Unlock()
	if ok {
		return k, nil
	}
	// Read after the generation: a change made meanwhile makes the row
	// newer than gen, never older, and the next check forgets it.
	k, err = c.Store.admission(ctx, kiosk)
	if err != nil {
		return admission{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen == gen { // not forgotten meanwhile: an older read must not outlive a change
		if c.kiosks == nil || len(c.kiosks) >= cacheKiosks {
			c.kiosks = map[string]admission{}
		}
		c.kiosks[kiosk] = k
	}
	return k, nil
}

// current is the register's generation, read again when the last read
// is CheckEvery old; a new one forgets every kiosk kept.
func (c *Cache) current(ctx context.Context) (int64, error) {
	now := c.Store.clock.Now()
	every := c.CheckEvery
	if every <= 0 {
		every = DefaultCheckEvery
	}
	c.mu.Lock()
	if !c.checked.IsZero() && now.Sub(c.checked) < every && !now.Before(c.checked) {
		defer c.mu.Unlock()
		return c.gen, nil
	}
	c.mu.Unlock()
	gen, err := c.Store.Generation(ctx)
	if err != nil {
		return 0, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen || c.checked.IsZero() {
		c.kiosks = nil
	}
	c.gen, c.checked = gen, now
	return gen, nil
}

// admission is kiosk's row in the register, as Admit and the cache read
// it.
func (s *Store) admission(ctx context.Context, kiosk string) (admission, error) {
	k := admission{found: true}
	var pub string
	err := s.db.QueryRow(ctx, `SELECT site, state, public_key FROM enrolled_kiosks WHERE kiosk = ?`, kiosk).
		Scan(&k.site, &k.state, &pub)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return admission{}, nil
	case err != nil:
		return admission{}, err
	}
	if pub != "" {
		if k.key, err = protocol.ParsePublicKeyText(pub); err != nil {
			return admission{}, fmt.Errorf("kiosk %s: stored key: %w", kiosk, err)
		}
	}
	return k, nil
}
