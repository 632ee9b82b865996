package registry

import (
	"context"
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gatepost/gatepost/internal/clock"
)

var tStart = time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)

func TestTransitionOpensOnlyUntilItsDeadline(t *testing.T) {
	for _, e := range engines() {
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			s, c := e.open(t)
			c.Set(tStart)
			if _, ok := s.InTransition(ctx, "huamu-1"); ok {
				t.Fatal("a new hub has a site in transition")
			}
			deadline := tStart.Add(30 * 24 * time.Hour)
			if err := s.SetTransition(ctx, "huamu-1", deadline); err != nil {
				t.Fatal(err)
			}
			if d, ok := s.InTransition(ctx, "huamu-1"); !ok || !d.Equal(deadline) {
				t.Fatalf("InTransition = %v, %v; want %v, true", d, ok, deadline)
			}
			if _, ok := s.InTransition(ctx, "huamu-2"); ok {
				t.Fatal("another site is in transition too")
			}
			for name, until := range map[string]time.Time{
				"past":        tStart.Add(-time.Minute),
				"now":         tStart,
				"over a year": tStart.Add(MaxTransition + time.Hour),
			} {
				if err := s.SetTransition(ctx, "huamu-2", until); err == nil {
					t.Errorf("SetTransition(%s) = nil, want refused", name)
				}
			}
			if err := s.SetTransition(ctx, "huamu 2", deadline); err == nil {
				t.Error("SetTransition of a bad site name = nil")
			}

			c.Advance(deadline.Sub(tStart) - time.Nanosecond)
			if _, ok := s.InTransition(ctx, "huamu-1"); !ok {
				t.Fatal("transition over before its deadline")
			}
			c.Advance(time.Nanosecond)
			if _, ok := s.InTransition(ctx, "huamu-1"); ok {
				t.Fatal("transition still open at its deadline")
			}
			ts, err := s.Transitions(ctx)
			if err != nil || len(ts) != 1 || ts[0].Site != "huamu-1" || ts[0].Active || !ts[0].Deadline.Equal(deadline) {
				t.Fatalf("Transitions after the deadline = %+v, %v; want huamu-1 listed, not active", ts, err)
			}
			if err := s.SetTransition(ctx, "huamu-1", time.Time{}); err != nil {
				t.Fatal(err)
			}
			if ts, _ := s.Transitions(ctx); len(ts) != 0 {
				t.Fatalf("Transitions after ending = %+v, want none", ts)
			}
		})
	}
}

func TestAdmitTakesOnlyEnrolledKiosksAtTheirSite(t *testing.T) {
	for _, e := range engines() {
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			s, _ := e.open(t)
			if _, err := s.Add(ctx, "huamu-1", "gate-1", kioskKey(1).Public().(ed25519.PublicKey)); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Add(ctx, "huamu-1", "gate-2", kioskKey(2).Public().(ed25519.PublicKey)); err != nil {
				t.Fatal(err)
			}
			if err := s.Retire(ctx, "gate-2"); err != nil {
				t.Fatal(err)
			}
			if _, _, err := s.NewCode(ctx, "huamu-1", "gate-3", time.Hour); err != nil {
				t.Fatal(err)
			}
			for _, tc := range []struct {
				site, kiosk string
				want        error
			}{
				{"huamu-1", "gate-1", nil},
				{"huamu-2", "gate-1", ErrTaken},
				{"huamu-1", "gate-2", ErrRetired},
				{"huamu-2", "gate-2", ErrTaken},
				{"huamu-1", "gate-3", ErrUnknown}, // pending
				{"huamu-1", "gate-9", ErrUnknown},
			} {
				if err := s.Admit(ctx, tc.site, tc.kiosk); !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
					t.Errorf("Admit(%s, %s) = %v, want %v", tc.site, tc.kiosk, err, tc.want)
				}
			}
		})
	}
}

// Another process (a command) changing the file is seen by the running
// hub through Generation.
func TestGenerationChangesWithEveryChangeSeenFromAnotherProcess(t *testing.T) {
	for _, e := range engines() {
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			dsn := e.dsn(t)
			c := clock.NewFake(tStart)
			hub, cmd := openAt(t, dsn, c), openAt(t, dsn, c)
			last, err := hub.Generation(ctx)
			if err != nil {
				t.Fatal(err)
			}
			changed := func(what string) {
				t.Helper()
				g, err := hub.Generation(ctx)
				if err != nil || g == last {
					t.Fatalf("after %s the generation is %d (%v), was %d: want a change", what, g, err, last)
				}
				last = g
			}
			secret, _, err := cmd.NewCode(ctx, "huamu-1", "gate-1", time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			changed("NewCode")
			r, pub := request(secret, "huamu-1", "gate-1", kioskKey(1))
			if _, err := cmd.Redeem(ctx, r, pub); err != nil {
				t.Fatal(err)
			}
			changed("Redeem")
			if _, err := cmd.Add(ctx, "huamu-1", "gate-2", kioskKey(2).Public().(ed25519.PublicKey)); err != nil {
				t.Fatal(err)
			}
			changed("Add")
			if err := cmd.Retire(ctx, "gate-1"); err != nil {
				t.Fatal(err)
			}
			changed("Retire")
			if err := cmd.SetTransition(ctx, "huamu-1", tStart.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			changed("SetTransition")
			// Nothing changes: the same number.
			if err := cmd.Retire(ctx, "gate-1"); err != nil {
				t.Fatal(err)
			}
			if _, err := cmd.Redeem(ctx, r, pub); err == nil {
				t.Fatal("a spent code redeemed")
			}
			if g, _ := hub.Generation(ctx); g != last {
				t.Fatalf("a refused or empty change moved the generation from %d to %d", last, g)
			}
		})
	}
}

// A caller holding a real code learns why it was refused; a guessed code
// learns nothing.
func TestRedeemSaysWhyForARealCode(t *testing.T) {
	for _, e := range engines() {
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			s, c := e.open(t)
			secret, _, err := s.NewCode(ctx, "huamu-1", "gate-1", time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			if k, _ := s.Get(ctx, "gate-1"); !k.CodeExpires.Equal(c.Now().Add(time.Hour)) {
				t.Fatalf("pending kiosk's CodeExpires = %v, want in an hour", k.CodeExpires)
			}
			key := kioskKey(1)
			try := func(secret, site, kiosk string) error {
				r, pub := request(secret, site, kiosk, key)
				_, err := s.Redeem(ctx, r, pub)
				return err
			}
			if err := try(secret, "huamu-2", "gate-1"); !errors.Is(err, ErrTaken) {
				t.Errorf("code for huamu-1/gate-1 from huamu-2/gate-1 = %v, want ErrTaken", err)
			}
			if err := try(secret, "huamu-1", "gate-5"); !errors.Is(err, ErrBadCode) || !contains(err, "made for huamu-1/gate-1") {
				t.Errorf("code for gate-1 from gate-5 = %v, want ErrBadCode naming gate-1", err)
			}
			if err := try(secret, "huamu-1", "gate-1"); err != nil {
				t.Fatal(err)
			}
			if k, _ := s.Get(ctx, "gate-1"); !k.CodeExpires.IsZero() {
				t.Errorf("an enrolled kiosk's CodeExpires = %v, want zero", k.CodeExpires)
			}
			if err := try(secret, "huamu-1", "gate-1"); !errors.Is(err, ErrCodeUsed) || !errors.Is(err, ErrBadCode) {
				t.Errorf("second use = %v, want ErrCodeUsed (and ErrBadCode)", err)
			}
			late, _, _ := s.NewCode(ctx, "huamu-1", "gate-2", time.Minute)
			c.Advance(time.Minute)
			if err := try(late, "huamu-1", "gate-2"); !errors.Is(err, ErrCodeExpired) {
				t.Errorf("expired code = %v, want ErrCodeExpired", err)
			}
			gone, _, _ := s.NewCode(ctx, "huamu-1", "gate-3", time.Hour)
			if err := s.Retire(ctx, "gate-3"); err != nil {
				t.Fatal(err)
			}
			if err := try(gone, "huamu-1", "gate-3"); !errors.Is(err, ErrRetired) {
				t.Errorf("code of a retired kiosk = %v, want ErrRetired", err)
			}
			if err := try("AAAAAAAAAAAAAAAAAAAAAAAAAA", "huamu-1", "gate-3"); !errors.Is(err, ErrBadCode) ||
				errors.Is(err, ErrRetired) || errors.Is(err, ErrCodeUsed) || errors.Is(err, ErrCodeExpired) {
				t.Errorf("a guessed code = %v, want a bare ErrBadCode", err)
			}
		})
	}
}

func contains(err error, s string) bool { return err != nil && strings.Contains(err.Error(), s) }
