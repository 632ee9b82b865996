package daemon

import (
	"context"

	"github.com/gatepost/gatepost/kiosk/screen"
	"github.com/gatepost/gatepost/protocol"
)

// applyStoredDownlinks applies what the journal holds, at start.
func (d *Daemon) applyStoredDownlinks() {
	v, payload, err := d.journal.Downlink(context.Background(), protocol.DownlinkConfig)
	if err != nil {
		d.log.Error("stored configuration from the hub is unreadable; using the file's", "err", err)
		return
	}
	if v > 0 {
		d.gate.ApplyConfig(v, payload)
	}
	d.showVersions()
}

// applyDownlink is the uplink's OnDownlink: the journal already holds d.
func (d *Daemon) applyDownlink(dl protocol.Downlink) {
	if dl.Kind == protocol.DownlinkConfig {
		d.gate.ApplyConfig(dl.Version, dl.Payload)
	}
	// status_list and keys: the journal holds them, and the pass verifier
	// reads the newest at its next check (kiosk/gate's pass source).
	d.showVersions()
}

func (d *Daemon) showVersions() {
	vs, err := d.journal.Downlinks(context.Background())
	if err != nil {
		return
	}
	d.screen.Update(func(s *screen.State) { s.Downlink = vs })
}

// presence fills in the kiosk's status message for the hub.
func (d *Daemon) presence() protocol.Status {
	st := protocol.Status{DiskLow: d.diskLow.Load(), Failures: d.gate.WriteFailures()}
	if js, err := d.journal.Status(context.Background()); err == nil {
		st.Unsynced = js.Unsynced
	}
	if vs, err := d.journal.Downlinks(context.Background()); err == nil && len(vs) > 0 {
		st.Downlink = vs
	}
	return st
}
