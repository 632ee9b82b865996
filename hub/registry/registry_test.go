package registry

import (
	"context"
	"crypto/ed25519"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gatepost/gatepost/hub/brokerconf"
	"github.com/gatepost/gatepost/internal/clock"
	"github.com/gatepost/gatepost/internal/pgtest"
	"github.com/gatepost/gatepost/protocol"
)

// testEngine is where a test's store lives: a new SQLite file, or a new
// database on the test PostgreSQL (internal/pgtest; skipped locally
// without one, failed in CI).
type testEngine struct {
	name string
	dsn  func(t *testing.T) string // a new, empty store's name for Open
}

// engines are the registry's two engines; every test runs on each.
func engines() []testEngine {
	return []testEngine{
		{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), FileName) }},
		{"postgres", func(t *testing.T) string { return pgtest.Database(t) }},
	}
}

// open opens a new, empty store on e, with a fake clock.
func (e testEngine) open(t *testing.T) (*Store, *clock.Fake) {
	t.Helper()
	c := clock.NewFake(time.Time{})
	return openAt(t, e.dsn(t), c), c
}

// openAt opens the store dsn names, closed when t ends.
func openAt(t *testing.T, dsn string, c clock.Clock) *Store {
	t.Helper()
	s, err := Open(t.Context(), dsn, c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func kioskKey(seed byte) ed25519.PrivateKey {
	b := make([]byte, ed25519.SeedSize)
	b[0] = seed
	return ed25519.NewKeyFromSeed(b)
}

func request(secret, site, kiosk string, key ed25519.PrivateKey) (protocol.EnrollRequest, ed25519.PublicKey) {
	return protocol.EnrollRequest{V: protocol.Version, Secret: secret, Site: site, Kiosk: kiosk, PublicKey: protocol.PublicKeyText(key.Public().(ed25519.PublicKey))},
		key.Public().(ed25519.PublicKey)
}

func TestACodeEnrollsOnceItsOwnKioskBeforeItExpires(t *testing.T) {
	for _, e := range engines() {
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			s, c := e.open(t)
			secret, expires, err := s.NewCode(ctx, "huamu-1", "gate-1", 24*time.Hour)
			if err != nil || !expires.Equal(c.Now().Add(24*time.Hour)) {
				t.Fatalf("NewCode = %v, expires %v", err, expires)
			}
			if k, _ := s.Get(ctx, "gate-1"); k.State != Pending {
				t.Fatalf("after NewCode the kiosk is %q, want pending", k.State)
			}
			key := kioskKey(1)
			for name, r := range map[string]protocol.EnrollRequest{
				"another kiosk": func() protocol.EnrollRequest { r, _ := request(secret, "huamu-1", "gate-2", key); return r }(),
				"another site":  func() protocol.EnrollRequest { r, _ := request(secret, "huamu-2", "gate-1", key); return r }(),
				"another secret": func() protocol.EnrollRequest {
					r, _ := request(protocol.NewEnrollSecret(), "huamu-1", "gate-1", key)
					return r
				}(),
			} {
				if _, err := s.Redeem(ctx, r, key.Public().(ed25519.PublicKey)); !errors.Is(err, ErrBadCode) {
					t.Errorf("Redeem with %s = %v, want ErrBadCode", name, err)
				}
			}
			r, pub := request(secret, "huamu-1", "gate-1", key)
			creds, err := s.Redeem(ctx, r, pub)
			if err != nil || creds.Username != "huamu-1/gate-1" || len(creds.Secret) < 40 {
				t.Fatalf("Redeem = %+v, %v", creds, err)
			}
			if _, err := s.Redeem(ctx, r, pub); !errors.Is(err, ErrBadCode) {
				t.Fatalf("a second Redeem of one code = %v, want ErrBadCode", err)
			}
			k, err := s.Get(ctx, "gate-1")
			if err != nil || k.State != Enrolled || !k.PublicKey.Equal(pub) || !brokerconf.CheckMosquittoHash(k.Mosquitto, creds.Secret) {
				t.Fatalf("enrolled kiosk = %+v, %v", k, err)
			}
			if got, ok := s.Authenticate(ctx, creds.Username, creds.Secret); !ok || got.Site != "huamu-1" || got.Kiosk != "gate-1" {
				t.Fatalf("Authenticate(right secret) = %+v, %v", got, ok)
			}
			for _, bad := range [][2]string{{creds.Username, creds.Secret + "x"}, {"huamu-2/gate-1", creds.Secret}, {"gate-1", creds.Secret}, {"", ""}} {
				if _, ok := s.Authenticate(ctx, bad[0], bad[1]); ok {
					t.Errorf("Authenticate(%q, …) = ok, want refused", bad[0])
				}
			}

			late, _, _ := s.NewCode(ctx, "huamu-1", "gate-3", time.Hour)
			c.Advance(time.Hour)
			r3, pub3 := request(late, "huamu-1", "gate-3", kioskKey(3))
			if _, err := s.Redeem(ctx, r3, pub3); !errors.Is(err, ErrBadCode) {
				t.Fatalf("Redeem of an expired code = %v, want ErrBadCode", err)
			}
		})
	}
}

func TestRetireRefusesTheKioskAndItsCodes(t *testing.T) {
	for _, e := range engines() {
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			s, _ := e.open(t)
			creds, err := s.Add(ctx, "huamu-1", "gate-1", kioskKey(1).Public().(ed25519.PublicKey))
			if err != nil {
				t.Fatal(err)
			}
			secret, _, err := s.NewCode(ctx, "huamu-1", "gate-1", time.Hour) // a re-enrollment code, outstanding
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Retire(ctx, "gate-1"); err != nil {
				t.Fatal(err)
			}
			if _, ok := s.Authenticate(ctx, creds.Username, creds.Secret); ok {
				t.Fatal("a retired kiosk still logs in")
			}
			r, pub := request(secret, "huamu-1", "gate-1", kioskKey(2))
			if _, err := s.Redeem(ctx, r, pub); err == nil {
				t.Fatal("a code made before retirement enrolled the retired kiosk")
			}
			if _, _, err := s.NewCode(ctx, "huamu-1", "gate-1", time.Hour); !errors.Is(err, ErrRetired) {
				t.Fatalf("NewCode for a retired kiosk = %v, want ErrRetired", err)
			}
			if _, err := s.Add(ctx, "huamu-1", "gate-1", pub); !errors.Is(err, ErrRetired) {
				t.Fatalf("Add of a retired kiosk = %v, want ErrRetired", err)
			}
			if err := s.Retire(ctx, "gate-1"); err != nil {
				t.Fatalf("retiring twice = %v, want nil", err)
			}
			if err := s.Retire(ctx, "gate-9"); !errors.Is(err, ErrUnknown) {
				t.Fatalf("Retire(unknown) = %v, want ErrUnknown", err)
			}
		})
	}
}

func TestKioskIdsAreOneSiteEach(t *testing.T) {
	for _, e := range engines() {
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			s, _ := e.open(t)
			if _, err := s.Add(ctx, "huamu-1", "gate-1", kioskKey(1).Public().(ed25519.PublicKey)); err != nil {
				t.Fatal(err)
			}
			if _, _, err := s.NewCode(ctx, "huamu-2", "gate-1", time.Hour); !errors.Is(err, ErrTaken) {
				t.Fatalf("NewCode for gate-1 at another site = %v, want ErrTaken", err)
			}
			for _, bad := range [][2]string{{"a b", "k"}, {"s", ""}, {"s", "k/1"}} {
				if _, _, err := s.NewCode(ctx, bad[0], bad[1], time.Hour); err == nil {
					t.Errorf("NewCode(%q, %q) = nil", bad[0], bad[1])
				}
			}
			if _, _, err := s.NewCode(ctx, "s", "k", 0); err == nil {
				t.Error("NewCode with no lifetime = nil")
			}
			list, err := s.List(ctx)
			if err != nil || len(list) != 1 || list[0].Fingerprint() == "" {
				t.Fatalf("List = %+v, %v", list, err)
			}
		})
	}
}

// Changes from several hubs at once on one store: each counted once, a
// code spent once, a new kiosk claimed by all of them without a clash.
func TestChangesAtOnceFromSeveralHubs(t *testing.T) {
	for _, e := range engines() {
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			dsn := e.dsn(t)
			c := clock.NewFake(tStart)
			hubs := []*Store{openAt(t, dsn, c), openAt(t, dsn, c)}
			const n = 8
			codes := make([]string, n)
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() { codes[i], _, errs[i] = hubs[i%2].NewCode(ctx, "huamu-1", "gate-1", time.Hour) })
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("NewCode #%d of %d at once for one new kiosk = %v", i+1, n, err)
				}
			}
			r, pub := request(codes[0], "huamu-1", "gate-1", kioskKey(1))
			won := make([]bool, n)
			for i := range n {
				wg.Go(func() {
					_, errs[i] = hubs[i%2].Redeem(ctx, r, pub)
					won[i] = errs[i] == nil
				})
			}
			wg.Wait()
			wins := 0
			for i, err := range errs {
				if won[i] {
					wins++
				} else if !errors.Is(err, ErrBadCode) {
					t.Errorf("a losing Redeem = %v, want ErrBadCode", err)
				}
			}
			if wins != 1 {
				t.Fatalf("%d of %d Redeems of one code at once won, want 1", wins, n)
			}
			if g, err := hubs[0].Generation(ctx); err != nil || g != n+1 {
				t.Fatalf("Generation after %d codes and an enrollment = %d, %v; want %d", n, g, err, n+1)
			}
		})
	}
}
