package operators

import (
	"errors"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gatepost/gatepost/internal/clock"
)

func TestNewPassword(t *testing.T) {
	t.Parallel()
	a, err := NewPassword()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewPassword()
	if utf8.RuneCountInString(a) != 20 || a == b {
		t.Errorf("NewPassword = %q then %q, want two different 20-character passwords", a, b)
	}
	if err := validUser("x", a); err != nil {
		t.Errorf("a made password is refused: %v", err)
	}
}

func TestUsersCreatedLastSignInAndRole(t *testing.T) {
	onEngines(t, func(t *testing.T, e testEngine) {
		now := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
		clk := clock.NewFake(now)
		s := e.open(t, clk)
		ctx := t.Context()
		if err := s.AddUser(ctx, "li", "a long password", false); err != nil {
			t.Fatal(err)
		}
		u, err := s.User(ctx, "li")
		if err != nil || !u.Created.Equal(now) || !u.LastSignIn.IsZero() || u.Admin {
			t.Fatalf("User(li) = %+v, %v; want created %v, never signed in, operator", u, err, now)
		}
		now = now.Add(time.Hour)
		clk.Set(now)
		s.Audit(ctx, "li", "sign_in", "127.0.0.1")
		s.Audit(ctx, "li", "sign_out", "")
		if u, _ := s.User(ctx, "li"); !u.LastSignIn.Equal(now) {
			t.Errorf("LastSignIn = %v, want %v", u.LastSignIn, now)
		}
		token, _, _ := s.StartSession(ctx, User{Name: "li"})
		if err := s.SetAdmin(ctx, "li", true); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Session(ctx, token); !errors.Is(err, ErrNoSession) {
			t.Errorf("li's session after a change of role: %v, want ended", err)
		}
		if u, _ := s.User(ctx, "li"); !u.Admin {
			t.Errorf("after SetAdmin li is %+v", u)
		}
		if err := s.SetAdmin(ctx, "nobody", true); !errors.Is(err, ErrNoUser) {
			t.Errorf("SetAdmin(nobody) = %v, want ErrNoUser", err)
		}
		if _, err := s.User(ctx, "nobody"); !errors.Is(err, ErrNoUser) {
			t.Errorf("User(nobody) = %v, want ErrNoUser", err)
		}
	})
}

func TestSetRetentionsAllOrNothing(t *testing.T) {
	onEngines(t, func(t *testing.T, e testEngine) {
		s := e.open(t, nil)
		ctx := t.Context()
		for _, bad := range []map[string]int{{"visitor": 7, "check": 0}, {"visitor": 7, "parcel": 3}, {"check": MaxRetention + 1}} {
			if err := s.SetRetentions(ctx, bad); err == nil {
				t.Errorf("SetRetentions(%v) succeeded", bad)
			}
		}
		if r, _ := s.Retention(ctx); r["visitor"] != 28 || r["check"] != 28 {
			t.Errorf("after refused changes retention = %v, want the defaults", r)
		}
		if err := s.SetRetentions(ctx, map[string]int{"visitor": 7, "check": 90}); err != nil {
			t.Fatal(err)
		}
		if r, _ := s.Retention(ctx); r["visitor"] != 7 || r["check"] != 90 {
			t.Errorf("retention = %v, want visitor 7, check 90", r)
		}
	})
}
