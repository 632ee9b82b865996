package passcheck

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatepost/gatepost/protocol"
)

// vectors is the part of protocol/testdata/passes/vectors.json the
// verifier needs: the same file drives the signer's tests.
type vectors struct {
	Site       string          `json:"site"`
	Now        time.Time       `json:"now"`
	KeySet     json.RawMessage `json:"keyset"`
	StatusList json.RawMessage `json:"status_list"`
	Cases      []struct {
		Name string `json:"name"`
		Text string `json:"text"`
		Hex  string `json:"hex"`
		Want string `json:"want"`
	} `json:"cases"`
}

func loadVectors(tb testing.TB) vectors {
	tb.Helper()
	data, err := os.ReadFile("../../protocol/testdata/passes/vectors.json")
	if err != nil {
		tb.Fatal(err)
	}
	var v vectors
	if err := json.Unmarshal(data, &v); err != nil {
		tb.Fatal(err)
	}
	return v
}

func (v vectors) params(tb testing.TB) Params {
	tb.Helper()
	ks, err := protocol.DecodeKeySet(v.KeySet)
	if err != nil {
		tb.Fatal(err)
	}
	sl, err := protocol.DecodeStatusList(v.StatusList)
	if err != nil {
		tb.Fatal(err)
	}
	return Params{Site: v.Site, Keys: &ks, List: &sl, Now: v.Now, Skew: DefaultSkew, MaxAge: DefaultMaxAge}
}

func TestCheckVectors(t *testing.T) {
	v := loadVectors(t)
	p := v.params(t)
	for _, c := range v.Cases {
		t.Run(c.Name, func(t *testing.T) {
			text := c.Text
			if c.Hex != "" {
				b, _ := hex.DecodeString(c.Hex)
				text = string(b)
			}
			r := Check(text, p)
			if string(r.Verdict) != c.Want {
				t.Fatalf("Check(%.40q) = %s (%s), want %s", text, r.Verdict, r.Detail, c.Want)
			}
			if r.Stale || r.NoKeys || r.ListVersion != 7 {
				t.Errorf("Check(%s): stale=%v nokeys=%v list=%d, want fresh list 7", c.Name, r.Stale, r.NoKeys, r.ListVersion)
			}
			if (r.Verdict == Revoked || r.Verdict == HomeObservation) && r.Status == nil {
				t.Errorf("Check(%s) gives no status entry", c.Name)
			}
		})
	}
}

func TestCheckClockAndList(t *testing.T) {
	v := loadVectors(t)
	valid := v.Cases[0].Text
	if v.Cases[0].Want != "valid" {
		t.Fatal("first vector should be the valid pass")
	}
	for _, tc := range []struct {
		name   string
		edit   func(p *Params)
		want   Verdict
		stale  bool
		nokeys bool
	}{
		{"fresh", func(p *Params) {}, Valid, false, false},
		{"no keys", func(p *Params) { p.Keys = nil }, UnknownKey, false, true},
		{"no status list", func(p *Params) { p.List = nil }, Valid, true, false},
		{"list a day and a minute old", func(p *Params) { p.Now = p.List.Issued.Add(24*time.Hour + time.Minute) }, Valid, true, false},
		{"list of another site", func(p *Params) { l := *p.List; l.Site = "other"; p.List = &l }, Valid, true, false},
		{"kiosk clock an hour behind the hub", func(p *Params) { p.Now = p.List.Issued.Add(-time.Hour) }, Valid, false, false},
		{"expired a year later", func(p *Params) { p.Now = p.Now.Add(365 * 24 * time.Hour); p.MaxAge = 0 }, Expired, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := v.params(t)
			tc.edit(&p)
			r := Check(valid, p)
			if behind := strings.Contains(tc.name, "behind"); r.ClockBehind != behind {
				t.Errorf("ClockBehind = %v, want %v", r.ClockBehind, behind)
			}
			if r.Verdict != tc.want || r.Stale != tc.stale || r.NoKeys != tc.nokeys {
				t.Errorf("Check = %s stale=%v nokeys=%v (%s), want %s stale=%v nokeys=%v", r.Verdict, r.Stale, r.NoKeys, r.Detail, tc.want, tc.stale, tc.nokeys)
			}
		})
	}
}

// TestVerifierFromFiles runs the Verifier over a folder as `hub passes
// export-kiosk` writes it: nothing, then the payloads, then a damaged
// update that must not replace the good ones, then an older version.
func TestVerifierFromFiles(t *testing.T) {
	v := loadVectors(t)
	dir := t.TempDir()
	now := v.Now
	ver := New(v.Site, Dir(dir), func() time.Time { return now }, Options{})
	ctx := context.Background()
	valid := v.Cases[0].Text

	r, err := ver.Verify(ctx, valid)
	if err != nil || r.Verdict != UnknownKey || !r.NoKeys || !r.Stale {
		t.Fatalf("empty folder: %s nokeys=%v stale=%v err=%v, want unknown_key, no keys, stale", r.Verdict, r.NoKeys, r.Stale, err)
	}
	write := func(name string, data []byte) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("keys.json", v.KeySet)
	write("status-list.json", v.StatusList)
	if r, err = ver.Verify(ctx, valid); err != nil || r.Verdict != Valid || r.Stale {
		t.Fatalf("with payloads: %s stale=%v err=%v", r.Verdict, r.Stale, err)
	}
	write("status-list.json", []byte(`{"v":1,"site":`))
	r, err = ver.Verify(ctx, valid)
	if err == nil || r.Verdict != Valid || r.ListVersion != 7 {
		t.Fatalf("damaged list: %s list=%d err=%v, want the old list kept and an error", r.Verdict, r.ListVersion, err)
	}
	older := strings.Replace(string(v.StatusList), `"version": 7`, `"version": 6`, 1)
	older = strings.Replace(older, `"reason": "reported lost"`, `"reason": "older"`, 1)
	write("status-list.json", []byte(older))
	if r, err = ver.Verify(ctx, valid); err != nil || r.ListVersion != 7 {
		t.Fatalf("older list: version %d, err %v, want 7 kept", r.ListVersion, err)
	}
	now = now.Add(25 * time.Hour)
	if _, list, stale, _ := ver.State(ctx); !stale || list != 7 {
		t.Errorf("a day later State = list %d stale %v, want 7 stale", list, stale)
	}
	if _, err := Dir(dir).Latest(ctx, "config"); err == nil {
		t.Error("Dir.Latest(config) gave no error")
	}
}

type failingSource struct{}

func (failingSource) Latest(context.Context, string) ([]byte, error) {
	return nil, errors.New("disk on fire")
}

func TestVerifierSourceFails(t *testing.T) {
	ver := New("huamu-1", failingSource{}, time.Now, Options{})
	r, err := ver.Verify(context.Background(), "hello")
	if err == nil || r.Verdict != NotAPass {
		t.Fatalf("Verify = %s, %v: want not_a_pass and the source's error", r.Verdict, err)
	}
}

// FuzzCheck: any scanned text gets a verdict, never a panic, and only a
// text the hub signed is trusted.
func FuzzCheck(f *testing.F) {
	v := loadVectors(f)
	p := v.params(f)
	for _, c := range v.Cases {
		f.Add(c.Text)
	}
	f.Fuzz(func(t *testing.T, text string) {
		r := Check(text, p)
		if r.Verdict == "" {
			t.Fatalf("Check(%q) gave no verdict", text)
		}
		if r.Trusted() && r.Pass == nil {
			t.Fatalf("Check(%q) trusted without a pass", text)
		}
	})
}
