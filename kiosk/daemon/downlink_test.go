package daemon

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatepost/gatepost/internal/testkit"
	"github.com/gatepost/gatepost/kiosk/config"
	"github.com/gatepost/gatepost/kiosk/journal"
	"github.com/gatepost/gatepost/protocol"
)

func config4(t *testing.T) config.Config {
	cfg := config.Demo()
	cfg.DataDir = t.TempDir()
	cfg.Screen.Listen = "127.0.0.1:0"
	cfg.MQTT.Broker = "tcp://127.0.0.1:1" // nothing there: the gate works offline
	cfg.Scanner.SimulateEvery = config.Duration(time.Hour)
	cfg.Retention.CheckEvery = config.Duration(time.Second)
	return cfg
}

// The hub's last config survives a restart with no network, a newer one is
// applied live, a bad one is refused, and a nearly full disk is shown and
// reported.
func TestDownlinkAppliedAndDiskWatched(t *testing.T) {
	cfg := config4(t)
	cfg.Retention.MinFreeBytes = 1 << 62 // no disk is that big: "nearly full"
	j, err := journal.Open(filepath.Join(cfg.DataDir, JournalFile), cfg.Kiosk)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := j.SaveDownlink(context.Background(), protocol.Downlink{Kind: protocol.DownlinkConfig, Site: cfg.Site,
		Version: 3, Issued: time.Now(), Payload: json.RawMessage(`{"fever_c":36.2}`)}); err != nil {
		t.Fatal(err)
	}
	j.Close()

	d := openDaemon(t, cfg, nil)
	if got := d.gate.Fever(); got != 36.2 {
		t.Errorf("fever line after a restart = %v, want the stored config's 36.2", got)
	}
	runDaemon(t, d)

	d.applyDownlink(protocol.Downlink{Kind: protocol.DownlinkConfig, Version: 4, Payload: json.RawMessage(`{"fever_c":37.8}`)})
	if got := d.gate.Fever(); got != 37.8 {
		t.Errorf("fever line after config v4 = %v, want 37.8", got)
	}
	d.applyDownlink(protocol.Downlink{Kind: protocol.DownlinkConfig, Version: 5, Payload: json.RawMessage(`{"fever_c":50}`)})
	if got := d.gate.Fever(); got != 37.8 {
		t.Errorf("fever line after a bad config = %v, want 37.8 kept", got)
	}
	testkit.Eventually(t, "a disk warning on the screen", func() bool { return strings.Contains(d.screen.State().Warning, "Disk nearly full") })
	if p := d.presence(); !p.DiskLow || p.Downlink["config"] != 3 {
		t.Errorf("presence = %+v, want disk_low and config v3 (what the journal holds)", p)
	}
	if v := d.screen.State().Downlink["config"]; v != 3 {
		t.Errorf("screen shows config v%d, want v3", v)
	}
}
