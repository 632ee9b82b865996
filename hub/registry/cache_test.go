package registry

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"testing"
	"time"

	"github.com/gatepost/gatepost/internal/clock"
)

// The cache answers as the register does, keeps its answers while the
// register is unchanged, and sees a change by another process (a
// command) once CheckEvery has passed.
func TestCacheAnswersAsTheRegisterAndSeesChanges(t *testing.T) {
	for _, e := range engines() {
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			dsn := e.dsn(t)
			c := clock.NewFake(tStart)
			hub, cmd := openAt(t, dsn, c), openAt(t, dsn, c)
			pub1 := kioskKey(1).Public().(ed25519.PublicKey)
			if _, err := cmd.Add(ctx, "huamu-1", "gate-1", pub1); err != nil {
				t.Fatal(err)
			}
			if _, err := cmd.Add(ctx, "huamu-1", "gate-2", kioskKey(2).Public().(ed25519.PublicKey)); err != nil {
				t.Fatal(err)
			}
			if err := cmd.Retire(ctx, "gate-2"); err != nil {
				t.Fatal(err)
			}
			if _, _, err := cmd.NewCode(ctx, "huamu-1", "gate-3", time.Hour); err != nil {
				t.Fatal(err)
			}
			cache := &Cache{Store: hub, CheckEvery: time.Second}
			for _, tc := range []struct{ site, kiosk string }{
				{"huamu-1", "gate-1"}, {"huamu-2", "gate-1"}, {"huamu-1", "gate-2"}, {"huamu-2", "gate-2"},
				{"huamu-1", "gate-3"}, {"huamu-1", "gate-9"},
			} {
				for range 2 { // read, then kept
					want, got := hub.Admit(ctx, tc.site, tc.kiosk), cache.Admit(ctx, tc.site, tc.kiosk)
					if (want == nil) != (got == nil) || (want != nil && want.Error() != got.Error()) {
						t.Errorf("Admit(%s, %s): cache says %v, register %v", tc.site, tc.kiosk, got, want)
					}
				}
			}
			if k, err := cache.Key(ctx, "gate-1"); err != nil || !bytes.Equal(k, pub1) {
				t.Errorf("Key(gate-1) = %x, %v; want %x", k, err, pub1)
			}
			if k, err := cache.Key(ctx, "gate-3"); err != nil || k != nil {
				t.Errorf("Key(gate-3), pending = %x, %v; want no key", k, err)
			}
			if _, err := cache.Key(ctx, "gate-9"); !errors.Is(err, ErrUnknown) {
				t.Errorf("Key(gate-9) = %v, want ErrUnknown", err)
			}

			// Another process retires gate-1 and adds gate-9.
			if err := cmd.Retire(ctx, "gate-1"); err != nil {
				t.Fatal(err)
			}
			if _, err := cmd.Add(ctx, "huamu-1", "gate-9", kioskKey(9).Public().(ed25519.PublicKey)); err != nil {
				t.Fatal(err)
			}
			if err := cache.Admit(ctx, "huamu-1", "gate-1"); err != nil {
				t.Errorf("within CheckEvery the kept answer stands, got %v: the cache read the register again", err)
			}
			c.Advance(time.Second)
			if err := cache.Admit(ctx, "huamu-1", "gate-1"); !errors.Is(err, ErrRetired) {
				t.Errorf("after CheckEvery a retired kiosk is admitted: %v", err)
			}
			if err := cache.Admit(ctx, "huamu-1", "gate-9"); err != nil {
				t.Errorf("after CheckEvery a kiosk added meanwhile is refused: %v", err)
			}
			if k, err := cache.Key(ctx, "gate-9"); err != nil || !bytes.Equal(k, kioskKey(9).Public().(ed25519.PublicKey)) {
				t.Errorf("Key(gate-9) after it was added = %x, %v", k, err)
			}
		})
	}
}
