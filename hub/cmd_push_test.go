package main

import (
	"bytes"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatepost/gatepost/hub/downlink"
	"github.com/gatepost/gatepost/hub/records"
)

// hub push refuses a bad config before storing anything, and with the
// broker away stores the message and says it was not published.
func TestPushCommand(t *testing.T) {
	dir := t.TempDir()
	s, err := records.Open(filepath.Join(dir, "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	away := "tcp://" + ln.Addr().String()
	ln.Close() // nothing listens there now
	var out bytes.Buffer
	for _, payload := range []string{`{"fever_c":99}`, `[1]`, `{"fever_c":"hot"}`} {
		if err := run(t, t.Context(), &out, "push", "--data", dir, "--broker", away, "--site", "huamu-1", "--payload", payload); err == nil ||
			!strings.Contains(err.Error(), "push refused") {
			t.Errorf("push %s = %v, want refused", payload, err)
		}
	}
	if ds, _ := s.Downlinks(t.Context()); len(ds) != 0 {
		t.Fatalf("refused pushes stored %+v", ds)
	}
	err = run(t, t.Context(), &out, "push", "--data", dir, "--broker", away, "--site", "huamu-1", "--payload", `{"fever_c":37.5}`)
	if !errors.Is(err, downlink.ErrNotPublished) || !strings.Contains(err.Error(), "config version 1 stored but not published") {
		t.Errorf("push with the broker away = %v, want stored but not published", err)
	}
	if ds, _ := s.Downlinks(t.Context()); len(ds) != 1 || ds[0].Version != 1 || string(ds[0].Payload) != `{"fever_c":37.5}` {
		t.Errorf("stored downlinks = %+v, want config v1", ds)
	}
}
