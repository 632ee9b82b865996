package screen

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// nextState reads server-sent events until the next "state" event.
func nextState(t *testing.T, r *bufio.Reader) State {
	t.Helper()
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("reading events: %v", err)
		}
		if data, ok := strings.CutPrefix(line, "data: "); ok {
			var st State
			if err := json.Unmarshal([]byte(data), &st); err != nil {
				t.Fatalf("event data %q: %v", data, err)
			}
			return st
		}
	}
}

func TestEventsPushEveryChange(t *testing.T) {
	s := New(State{Kiosk: "gate-1", Site: "site-1"}, slog.New(slog.DiscardHandler))
	srv := httptest.NewServer(s)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type = %q", ct)
	}
	r := bufio.NewReader(resp.Body)
	if st := nextState(t, r); st.Kiosk != "gate-1" || st.Online || st.Last != nil {
		t.Fatalf("first event = %+v, want the initial state", st)
	}
	temp := 37.8
	s.Update(func(st *State) {
		st.Online = true
		st.Unsynced = 2
		st.Last = &Shown{Seq: 9, Decision: "alert", TemperatureC: &temp, Reasons: []string{"fever"}}
	})
	st := nextState(t, r)
	if !st.Online || st.Unsynced != 2 || st.Last == nil || st.Last.Seq != 9 || *st.Last.TemperatureC != 37.8 {
		t.Fatalf("event after Update = %+v", st)
	}
}

func TestPageAndAssetsAreEmbedded(t *testing.T) {
	srv := httptest.NewServer(New(State{}, slog.New(slog.DiscardHandler)))
	defer srv.Close()
	for path, want := range map[string]string{
		"/":                  "EventSource",
		"/assets/screen.js":  "EventSource",
		"/assets/screen.css": "#result.allow",
		"/api/state":         `"online":false`,
		// The catalogues, with the area words of protocol/text.
		"/assets/i18n/zh-CN.json": `"area_drop_point":"快递投放点"`,
		"/assets/i18n/en.json":    `"area_drop_point":"The parcel drop point"`,
	} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if path == "/" {
			want = "/assets/screen.js"
		}
		if resp.StatusCode != 200 || !strings.Contains(string(body), want) {
			t.Errorf("GET %s = %d, body lacks %q", path, resp.StatusCode, want)
		}
	}
	resp, err := http.Get(srv.URL + "/assets/i18n/fr.json")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET a catalogue we do not have = %d, want 404", resp.StatusCode)
	}
}

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
