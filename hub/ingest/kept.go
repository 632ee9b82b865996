package ingest

import (
	"sync"
	"time"
)

// kept holds answers about kiosks (keyed "site/kiosk") until a deadline,
// so that a flood does not read the register once a message: admission
// (Admit) and the enrolled key (KioskKey) each keep theirs AdmitFor.
// Past admitKeys answers the expired ones are forgotten, or all of them.
type kept[T any] struct {
	mu sync.Mutex
	m  map[string]keptAnswer[T]
}

type keptAnswer[T any] struct {
	v     T
	until time.Time
}

// get returns the answer for key while it is still good at now.
func (k *kept[T]) get(key string, now time.Time) (T, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	a, ok := k.m[key]
	if !ok || !now.Before(a.until) {
		var zero T
		return zero, false
	}
	return a.v, true
}

// put keeps v for key until until.
func (k *kept[T]) put(key string, v T, now, until time.Time) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.m == nil {
		k.m = map[string]keptAnswer[T]{}
	}
	if len(k.m) >= admitKeys {
		for key, old := range k.m {
			if !now.Before(old.until) {
				delete(k.m, key)
			}
		}
		if len(k.m) >= admitKeys {
			clear(k.m)
		}
	}
	k.m[key] = keptAnswer[T]{v, until}
}
