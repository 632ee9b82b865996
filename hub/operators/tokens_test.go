package operators

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gatepost/gatepost/internal/clock"
)

func TestAPITokens(t *testing.T) {
	onEngines(t, func(t *testing.T, e testEngine) {
		now := time.Date(2026, 2, 1, 8, 0, 0, 0, time.UTC)
		s := e.open(t, clock.NewFake(now))
		ctx := t.Context()
		if err := s.AddUser(ctx, "li", "a long enough password", false); err != nil {
			t.Fatal(err)
		}
		token, err := s.AddToken(ctx, "nightly", "li")
		if err != nil || !strings.HasPrefix(token, TokenPrefix) || len(token) < 40 {
			t.Fatalf("AddToken = %q, %v", token, err)
		}
		for _, bad := range []struct{ label, user, want string }{
			{"nightly", "li", "exists"}, {"a b", "li", "label"}, {"", "li", "label"}, {"other", "nobody", "nobody"},
		} {
			if _, err := s.AddToken(ctx, bad.label, bad.user); err == nil || !strings.Contains(err.Error(), bad.want) {
				t.Errorf("AddToken(%q, %q) = %v, want an error saying %q", bad.label, bad.user, err, bad.want)
			}
		}
		sess, label, err := s.TokenSession(ctx, token)
		if err != nil || label != "nightly" || sess.User.Name != "li" || sess.User.Admin || sess.CSRF != "" {
			t.Fatalf("TokenSession = %+v %q %v", sess, label, err)
		}
		list, err := s.Tokens(ctx)
		if err != nil || len(list) != 1 || !list[0].LastUsed.Equal(now) || list[0].User != "li" {
			t.Errorf("Tokens = %+v, %v; want nightly for li, last used now", list, err)
		}
		// One character changed: the last hex digit, to one it is not (a fixed
		// "0" was the token itself one time in sixteen).
		flipped := token[:len(token)-1] + map[bool]string{true: "1", false: "0"}[strings.HasSuffix(token, "0")]
		for _, wrong := range []string{"", flipped, strings.TrimPrefix(token, TokenPrefix)} {
			if _, _, err := s.TokenSession(ctx, wrong); !errors.Is(err, ErrNoToken) {
				t.Errorf("TokenSession(%q) = %v, want ErrNoToken", wrong, err)
			}
		}
		if err := s.SetDisabled(ctx, "li", true); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.TokenSession(ctx, token); !errors.Is(err, ErrNoToken) {
			t.Errorf("a disabled user's token = %v, want ErrNoToken", err)
		}
		s.SetDisabled(ctx, "li", false)
		if err := s.RevokeToken(ctx, "nightly"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.TokenSession(ctx, token); !errors.Is(err, ErrNoToken) {
			t.Errorf("a revoked token = %v, want ErrNoToken", err)
		}
		if err := s.RevokeToken(ctx, "nightly"); !errors.Is(err, ErrNoToken) {
			t.Errorf("revoking twice = %v, want ErrNoToken", err)
		}
	})
}
