// Package gate is the gate application: each scan with a fresh
// temperature reading becomes a journaled entry that the guard's screen
// then shows; people with a first high reading are held for a second;
// the guard's forms (visitor, delivery, disinfection, shifts) and the
// screen's modes become entries the same way. It also holds the demo's
// traffic generator for simulated devices.
//
// The kiosk's daemon builds a Gate from parts it opened (journal, screen,
// devices) and runs it; only the daemon imports gate, and the kiosk
// command (for the pass source of `kiosk verify`).
package gate

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatepost/gatepost/hardware/device"
	"github.com/gatepost/gatepost/hardware/scanner"
	"github.com/gatepost/gatepost/hardware/thermometer"
	"github.com/gatepost/gatepost/internal/clock"
	"github.com/gatepost/gatepost/kiosk/checkpoint"
	"github.com/gatepost/gatepost/kiosk/config"
	"github.com/gatepost/gatepost/kiosk/journal"
	"github.com/gatepost/gatepost/kiosk/passcheck"
	"github.com/gatepost/gatepost/kiosk/screen"
	"github.com/gatepost/gatepost/protocol"
)

// Thermometer is what the gate reads temperatures from.
type Thermometer interface {
	Read(ctx context.Context, timeout time.Duration) (thermometer.Reading, error)
	Status() device.Status
}

// Scanner is what the gate reads codes from.
type Scanner interface {
	Next(ctx context.Context) (scanner.Scan, error)
	Status() device.Status
}

var (
	_ Thermometer = (*device.Thermometer)(nil)
	_ Scanner     = (*device.Scanner)(nil)
)

// Parts are what a gate is built from. The caller opened them and closes
// them after Run returned.
type Parts struct {
	Config      config.Config
	Log         *slog.Logger // nil: discard
	Clock       clock.Clock  // nil: the wall clock
	Journal     *journal.Journal
	Screen      *screen.Server
	Thermometer Thermometer
	Scanner     Scanner
	Limits      thermometer.Limits // plausibility of a reading
	OffsetC     float64            // the thermometer's calibration, added to every reading
	// Committed is called after each entry is journaled and shown: the
	// daemon wakes the uplink and shows the sync position. Nil: nothing.
	Committed func()
}

// Gate is the running gate application.
type Gate struct {
	cfg       config.Config
	log       *slog.Logger
	clk       clock.Clock
	journal   *journal.Journal
	screen    *screen.Server
	therm     Thermometer
	scan      Scanner
	limits    thermometer.Limits
	offset    float64
	committed func()
	verifier  *passcheck.Verifier

	// mu guards holds and post: the scan loop and the screen's forms
	// both use them.
	mu    sync.Mutex
	holds checkpoint.Holds
	post  checkpoint.Post
	ui    *ui // the screen's forms and modes (ui.go)

	feverC        atomic.Uint64 // math.Float64bits of the threshold in force
	writeFailures atomic.Uint64 // journal appends that failed
	loop          loop          // the scan loop's heartbeat (liveness.go)
}

// New builds a gate: it restores from the journal the people resting
// before a second reading and the guards on post, serves the screen's
// forms, and shows the devices' states. Run starts taking scans.
func New(p Parts) *Gate {
	if p.Log == nil {
		p.Log = slog.New(slog.DiscardHandler)
	}
	if p.Committed == nil {
		p.Committed = func() {}
	}
	g := &Gate{
		cfg: p.Config, log: p.Log, clk: clock.Or(p.Clock), journal: p.Journal, screen: p.Screen,
		therm: p.Thermometer, scan: p.Scanner, limits: p.Limits, offset: p.OffsetC, committed: p.Committed,
	}
	g.verifier = passcheck.New(g.cfg.Site, NewPassSource(g.cfg, g.journal), g.clk.Now,
		passcheck.Options{MaxAge: g.cfg.Passes.MaxAge.D(), Skew: g.cfg.Passes.ClockSkew.D()})
	g.feverC.Store(math.Float64bits(g.cfg.Rules.FeverC))
	g.restoreHolds(context.Background())
	g.ui = newUI(g)
	g.ShowDevices()
	return g
}

// Run takes scans until ctx is done: each one, with a fresh temperature
// reading, becomes a journaled entry, then is shown.
func (g *Gate) Run(ctx context.Context) {
	g.loop.running.Store(true)
	defer g.loop.running.Store(false)
	for {
		g.loop.idle()
		sc, err := g.scan.Next(ctx)
		if ctx.Err() != nil {
			return
		}
		g.loop.busy(g.clk.Now())
		if errors.Is(err, device.ErrBadCode) {
			// Too long or not UTF-8: logged as a failed scan, the text
			// itself not kept.
			g.commit(ctx, protocol.Entry{Time: g.clk.Now(), Kind: protocol.KindCheck}, checkpoint.UnreadableScan(), "", nil)
			continue
		}
		if err != nil {
			g.setProblem(Sentence(KeyScannerGone))
			continue
		}
		g.setProblem(g.problem())
		if g.ui.takeScan(ctx, sc.Text) {
			continue // a guard's pass, for the sign-in or disinfection the screen asked for
		}
		reading, why := g.read(ctx)
		if ctx.Err() != nil {
			return
		}
		g.record(ctx, sc.Text, reading, why)
	}
}

// WriteFailures counts the entries the journal refused since start.
func (g *Gate) WriteFailures() uint64 { return g.writeFailures.Load() }
