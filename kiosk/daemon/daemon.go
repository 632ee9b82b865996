// Package daemon is the kiosk's lifecycle: Open wires the parts of a
// gate from its configuration (devices, real or simulated on
// pseudo-terminals; the journal; the gate application; the guard's
// screen; the uplink to the hub), Run runs them until its context ends,
// Close closes what Open opened. The work is in the parts: the gate's
// rules and forms in kiosk/gate, device reopening in hardware/device,
// sync in kiosk/uplink. The daemon keeps only what joins them: how the
// uplink logs in (the enrollment, enrolled.go), the hub's downlinks
// applied to the gate (downlink.go), the kiosk's upkeep (retention and
// disk, upkeep.go), its metrics, and what systemd is told: ready, alive,
// stopping (notify.go).
//
// The kiosk program, the demo and the end-to-end tests import it; it is
// kept out of package main so they can run a kiosk in process.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatepost/gatepost/internal/clock"
	"github.com/gatepost/gatepost/internal/sdnotify"
	"github.com/gatepost/gatepost/kiosk/config"
	"github.com/gatepost/gatepost/kiosk/gate"
	"github.com/gatepost/gatepost/kiosk/journal"
	"github.com/gatepost/gatepost/kiosk/screen"
	"github.com/gatepost/gatepost/kiosk/uplink"
)

// JournalFile is the journal's name inside the data folder.
const JournalFile = "journal.db"

// Daemon is an opened kiosk.
type Daemon struct {
	// Notify, when set before Run, is told READY=1, fed WATCHDOG=1 while
	// the kiosk is alive and told STOPPING=1 (notify.go). Nil: no service
	// manager is told anything.
	Notify *sdnotify.Notifier

	cfg     config.Config
	log     *slog.Logger
	clk     clock.Clock
	journal *journal.Journal
	screen  *screen.Server
	uplink  *uplink.Uplink
	devices *devices
	gate    *gate.Gate
	ln      net.Listener

	enrolled  bool // see login
	diskLow   atomic.Bool
	purged    atomic.Uint64
	closeOnce sync.Once
	closeErr  error
}

// Open prepares a kiosk: the journal, the devices (starting simulators if
// configured), the gate, the screen's listener. Run starts it; Close
// closes it. clk is the clock the kiosk reads; nil is the wall clock.
func Open(cfg config.Config, log *slog.Logger, clk clock.Clock) (*Daemon, error) {
	return open(cfg, log, journal.Options{Clock: clk})
}

// open is Open with the journal's options (tests set a write hook).
func open(cfg config.Config, log *slog.Logger, jo journal.Options) (*Daemon, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("create data folder: %w", err)
	}
	clk := clock.Or(jo.Clock)
	jo.Clock = clk
	j, err := journal.OpenWith(filepath.Join(cfg.DataDir, JournalFile), cfg.Kiosk, jo)
	if err != nil {
		return nil, err
	}
	d := &Daemon{cfg: cfg, log: log, clk: clk, journal: j}
	d.screen = screen.New(screen.State{Kiosk: cfg.Kiosk, Site: cfg.Site,
		Simulated: cfg.Thermometer.Simulate || cfg.Scanner.Simulate}, log)
	uc := uplink.Config{
		Site: cfg.Site, Kiosk: cfg.Kiosk,
		BatchSize: cfg.MQTT.BatchSize, BatchWait: cfg.MQTT.BatchWait.D(),
		MaxInFlight: cfg.MQTT.MaxInFlight, AckTimeout: cfg.MQTT.AckTimeout.D(),
		GzipAbove:  cfg.MQTT.GzipAbove,
		BackoffMin: cfg.MQTT.BackoffMin.D(), BackoffMax: cfg.MQTT.BackoffMax.D(),
		OnChange:   d.refreshLink,
		OnDownlink: d.applyDownlink,
		Status:     d.presence,
		Clock:      clk,
	}
	if d.enrolled, err = login(&uc, cfg, log); err != nil {
		j.Close()
		return nil, err
	}
	if err := signWith(&uc, cfg, d.enrolled, log); err != nil {
		j.Close()
		return nil, err
	}
	if !d.enrolled {
		log.Warn("this kiosk is not enrolled: it applies no downlinks from the hub, and a closed hub refuses it (kiosk enroll)")
	}
	d.uplink = uplink.New(uc, j, log.With("part", "uplink"))
	// A device may change state before the gate exists: the gate shows
	// the states as they are when it starts.
	var ready atomic.Pointer[gate.Gate]
	d.devices, err = openDevices(cfg, log.With("part", "devices"), d.clk, func() {
		if g := ready.Load(); g != nil {
			g.ShowDevices()
		}
	})
	if err != nil {
		d.Close()
		return nil, err
	}
	d.gate = gate.New(gate.Parts{
		Config: cfg, Log: log.With("part", "gate"), Clock: d.clk, Journal: j, Screen: d.screen,
		Thermometer: d.devices.therm, Scanner: d.devices.scan,
		Limits: cfg.Thermometer.Limits(), OffsetC: calibrationOffset(j, log),
		Committed: func() { d.uplink.Notify(); d.refreshLink() },
	})
	ready.Store(d.gate)
	// The latest configuration from the hub survives a reboot with no
	// network: apply the stored copy before anything is decided.
	d.applyStoredDownlinks()
	if cfg.Screen.OffLoopback() {
		log.Warn("the guard's screen is served beyond this machine: keep screen.listen on 127.0.0.1 unless the touchscreen is another computer", "listen", cfg.Screen.Listen)
	}
	d.ln, err = net.Listen("tcp", cfg.Screen.Listen)
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("screen: listen on %s: %w", cfg.Screen.Listen, err)
	}
	d.refreshLink()
	return d, nil
}

// ScreenURL is where the guard's page is served.
func (d *Daemon) ScreenURL() string { return "http://" + d.ln.Addr().String() + "/" }

// SimulatePeople makes the simulated scanner scan these codes (signed pass
// tokens, for the demo) instead of made-up ones. It has an effect only
// with scanner.simulate = true.
func (d *Daemon) SimulatePeople(codes []string) { d.devices.traffic.SetPeople(codes) }

// Run runs the gate until ctx is done or a part fails, and returns when
// everything it started has stopped. Close the daemon after.
func (d *Daemon) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", d.metricsHandler())
	mux.Handle("/", d.screen)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	var wg sync.WaitGroup
	errc := make(chan error, 2)
	wg.Go(func() {
		if err := srv.Serve(d.ln); !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("screen: %w", err)
		}
	})
	wg.Go(func() {
		if err := d.uplink.Run(ctx); err != nil {
			errc <- err
		}
	})
	wg.Go(func() { d.devices.simulateTraffic(ctx) })
	wg.Go(func() { d.gate.Run(ctx) })
	wg.Go(func() { d.housekeeping(ctx) })
	wg.Go(func() { d.notify(ctx) })
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
		d.log.Error("kiosk stopping", "err", err)
	}
	if d.Notify != nil {
		d.Notify.Stopping()
	}
	cancel()
	shutdown, done := context.WithTimeout(context.Background(), 2*time.Second)
	srv.Shutdown(shutdown) // server-sent event streams end with their requests' contexts
	done()
	srv.Close()
	wg.Wait()
	return err
}

// Close closes the screen's listener, the devices (stopping simulators)
// and the journal. Call it once Run returned, or instead of Run.
func (d *Daemon) Close() error {
	d.closeOnce.Do(func() {
		if d.ln != nil {
			d.ln.Close() // already closed if Run served it
		}
		if d.devices != nil {
			d.devices.Close()
		}
		d.closeErr = d.journal.Close()
	})
	return d.closeErr
}

// refreshLink shows the link state and the journal's sync position.
func (d *Daemon) refreshLink() {
	st, err := d.journal.Status(context.Background())
	if err != nil {
		d.log.Error("journal status", "err", err)
		return
	}
	online := d.uplink.Online()
	warning := d.warning()
	d.screen.Update(func(s *screen.State) {
		s.Online = online
		s.Warning = warning
		s.Unsynced = st.Unsynced
		s.LastAck = st.LastAck
		s.OldestUnsynced = st.OldestUnsynced
	})
}
