package gate

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gatepost/gatepost/hardware/device"
	"github.com/gatepost/gatepost/hardware/scanner"
	"github.com/gatepost/gatepost/hardware/serialport"
	"github.com/gatepost/gatepost/hardware/thermometer"
	"github.com/gatepost/gatepost/internal/clock"
	"github.com/gatepost/gatepost/kiosk/config"
	"github.com/gatepost/gatepost/kiosk/journal"
	"github.com/gatepost/gatepost/kiosk/screen"
	"github.com/gatepost/gatepost/protocol"
)

// fakeThermometer answers with the temperature set, or with err. The
// devices themselves are tested on simulators in hardware/device and
// through the daemon; the gate needs only readings.
type fakeThermometer struct {
	mu  sync.Mutex
	r   thermometer.Reading
	err error
}

func (f *fakeThermometer) set(objectC float64, err error) {
	f.mu.Lock()
	f.r, f.err = thermometer.Reading{Object: objectC}, err
	f.mu.Unlock()
}

func (f *fakeThermometer) Read(context.Context, time.Duration) (thermometer.Reading, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.r, f.err
}

func (f *fakeThermometer) Status() device.Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := device.Status{Name: device.NameThermometer, State: device.StateConnected}
	if f.err != nil {
		st.State, st.Detail = device.StateOf(f.err), f.err.Error()
	}
	return st
}

// fakeScanner hands out the codes sent to it; unplug makes the waiting
// Next fail as an unplugged scanner's does.
type fakeScanner struct {
	codes  chan string
	unplug chan struct{}
	mu     sync.Mutex
	gone   bool
}

func newFakeScanner() *fakeScanner {
	return &fakeScanner{codes: make(chan string, 16), unplug: make(chan struct{}, 1)}
}

func (f *fakeScanner) setGone(gone bool) {
	f.mu.Lock()
	f.gone = gone
	f.mu.Unlock()
	if gone {
		f.unplug <- struct{}{}
	}
}

func (f *fakeScanner) Next(ctx context.Context) (scanner.Scan, error) {
	select {
	case <-ctx.Done():
		return scanner.Scan{}, ctx.Err()
	case <-f.unplug:
		return scanner.Scan{}, serialport.ErrGone
	case c := <-f.codes:
		if c == "\xff" {
			return scanner.Scan{}, device.ErrBadCode
		}
		return scanner.Scan{Text: c}, nil
	}
}

func (f *fakeScanner) Status() device.Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.gone {
		return device.Status{Name: device.NameScanner, State: device.StateDisconnected}
	}
	return device.Status{Name: device.NameScanner, State: device.StateConnected}
}

var errUnplugged = errors.New("unplugged")

// testGate is a gate on a fresh journal, a fake clock and fake devices,
// with a key set and status list in its data folder.
type testGate struct {
	*Gate
	t     *testing.T
	cfg   config.Config
	clk   *clock.Fake
	therm *fakeThermometer
	scan  *fakeScanner
	priv  ed25519.PrivateKey
	now   time.Time
}

func newTestGate(t *testing.T) *testGate {
	t.Helper()
	cfg := config.Demo()
	cfg.Site, cfg.DataDir = "huamu-1", t.TempDir()
	tg := &testGate{t: t, cfg: cfg, clk: clock.NewFake(time.Now().UTC().Truncate(time.Second)),
		therm: new(fakeThermometer), scan: newFakeScanner()}
	tg.therm.set(36.5, nil)
	tg.now = tg.clk.Now()
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	tg.priv = priv
	keys, err := protocol.EncodeKeySet(protocol.KeySet{Version: 1, Issued: tg.now, Keys: []protocol.PublicKey{{ID: "k1", Key: pub, Created: tg.now}}})
	if err != nil {
		t.Fatal(err)
	}
	list, err := protocol.EncodeStatusList(protocol.StatusList{Site: "huamu-1", Version: 1, Issued: tg.now, Entries: []protocol.StatusEntry{}})
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(cfg.DataDir, "keys.json"), keys, 0o644)
	os.WriteFile(filepath.Join(cfg.DataDir, "status-list.json"), list, 0o644)
	tg.open()
	return tg
}

// open builds the gate (again, on the same journal).
func (tg *testGate) open() {
	tg.t.Helper()
	j, err := journal.Open(filepath.Join(tg.cfg.DataDir, "journal.db"), tg.cfg.Kiosk)
	if err != nil {
		tg.t.Fatal(err)
	}
	tg.t.Cleanup(func() { j.Close() })
	tg.Gate = New(Parts{Config: tg.cfg, Clock: tg.clk, Journal: j, Screen: screen.New(screen.State{}, slog.New(slog.DiscardHandler)),
		Thermometer: tg.therm, Scanner: tg.scan, Limits: thermometer.Limits{BodyMinC: 34, BodyMaxC: 43}})
}

// sign signs a pass of the test key.
func (tg *testGate) sign(id string, kind protocol.PassKind) string {
	tg.t.Helper()
	text, err := protocol.SignPass(protocol.Pass{Key: "k1", ID: id, Kind: kind, Site: "huamu-1", Unit: "1-101", Name: "李*",
		ValidFrom: tg.now.Add(-time.Hour), ValidUntil: tg.now.Add(24 * time.Hour)}, tg.priv)
	if err != nil {
		tg.t.Fatal(err)
	}
	return text
}

// run runs the scan loop until the test ends.
func (tg *testGate) run() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		tg.Run(ctx)
	}()
	tg.t.Cleanup(func() { cancel(); <-done })
}
