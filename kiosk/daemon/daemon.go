// Package daemon wires the kiosk's parts into the running gate: devices
// (real or simulated on pseudo-terminals) feed the rules, every decision is
// journaled before the screen shows it, and the uplink carries the journal
// to the hub.
//
// The kiosk program and the demo import it; it is kept out of package main
// so a demo or an end-to-end test can run a kiosk in process.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatepost/gatepost/kiosk/checkpoint"
	"github.com/gatepost/gatepost/kiosk/config"
	"github.com/gatepost/gatepost/kiosk/journal"
	"github.com/gatepost/gatepost/kiosk/passcheck"
	"github.com/gatepost/gatepost/kiosk/screen"
	"github.com/gatepost/gatepost/kiosk/uplink"
)

type uplinkStats = uplink.Stats

// JournalFile is the journal's name inside the data folder.
const JournalFile = "journal.db"

// Daemon is a running kiosk.
type Daemon struct {
	cfg     config.Config
	log     *slog.Logger
	journal *journal.Journal
	screen  *screen.Server
	uplink  *uplink.Uplink
	ln      net.Listener
	devices *devices
	// The gate's rules (check.go, forms.go). gateMu guards holds and post:
	// the check loop and the screen's forms both use them.
	verifier *passcheck.Verifier
	gateMu   sync.Mutex
	holds    checkpoint.Holds
	post     checkpoint.Post
	ui       *gateUI // the screen's forms and modes (screenapi.go)

	feverC        atomic.Uint64 // math.Float64bits of the threshold in force
	writeFailures atomic.Uint64 // journal appends that failed
	diskLow       atomic.Bool
	purged        atomic.Uint64
}

// Open prepares a kiosk: the journal, the devices (starting simulators if
// configured), the screen's listener. Run starts it.
func Open(cfg config.Config, log *slog.Logger) (*Daemon, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("create data folder: %w", err)
	}
	j, err := journal.Open(filepath.Join(cfg.DataDir, JournalFile), cfg.Kiosk)
	if err != nil {
		return nil, err
	}
	d := &Daemon{cfg: cfg, log: log, journal: j}
	d.verifier = passcheck.New(cfg.Site, NewPassSource(cfg, j), time.Now,
		passcheck.Options{MaxAge: cfg.Passes.MaxAge.D(), Skew: cfg.Passes.ClockSkew.D()})
	d.feverC.Store(math.Float64bits(cfg.Rules.FeverC))
	d.screen = screen.New(screen.State{Kiosk: cfg.Kiosk, Site: cfg.Site}, log)
	// The latest configuration from the hub survives a reboot with no
	// network: apply the stored copy before anything is decided.
	d.applyStoredDownlinks()
	d.restoreHolds(context.Background())
	d.ui = newGateUI(d)
	d.uplink = uplink.New(uplink.Config{
		Broker: cfg.MQTT.Broker, Username: cfg.MQTT.Username, Password: cfg.MQTT.Password,
		Site: cfg.Site, Kiosk: cfg.Kiosk,
		BatchSize: cfg.MQTT.BatchSize, BatchWait: cfg.MQTT.BatchWait.D(),
		MaxInFlight: cfg.MQTT.MaxInFlight, AckTimeout: cfg.MQTT.AckTimeout.D(),
		GzipAbove:  cfg.MQTT.GzipAbove,
		BackoffMin: cfg.MQTT.BackoffMin.D(), BackoffMax: cfg.MQTT.BackoffMax.D(),
		OnChange:   d.refreshLink,
		OnDownlink: d.applyDownlink,
		Status:     d.presence,
	}, j, log.With("part", "uplink"))
	d.devices, err = openDevices(cfg, log.With("part", "devices"), calibrationOffset(j, log), d.showDevices)
	if err != nil {
		j.Close()
		return nil, err
	}
	d.ln, err = net.Listen("tcp", cfg.Screen.Listen)
	if err != nil {
		d.devices.Close()
		j.Close()
		return nil, fmt.Errorf("screen: listen on %s: %w", cfg.Screen.Listen, err)
	}
	d.refreshLink()
	return d, nil
}

// ScreenURL is where the guard's page is served.
func (d *Daemon) ScreenURL() string { return "http://" + d.ln.Addr().String() + "/" }

// Run runs the gate until ctx is done, then closes everything it opened.
func (d *Daemon) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", d.metricsHandler())
	mux.Handle("/", d.screen)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	var wg sync.WaitGroup
	errc := make(chan error, 3)
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
	wg.Go(func() { d.checkLoop(ctx) })
	wg.Go(func() { d.housekeeping(ctx) })
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
		d.log.Error("kiosk stopping", "err", err)
	}
	cancel()
	shutdown, done := context.WithTimeout(context.Background(), 2*time.Second)
	srv.Shutdown(shutdown) // server-sent event streams end with their requests' contexts
	done()
	srv.Close()
	wg.Wait()
	d.devices.Close()
	if cerr := d.journal.Close(); err == nil && cerr != nil {
		err = cerr
	}
	return err
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
