package device

import (
	"context"
	"sync"
	"time"

	"github.com/gatepost/gatepost/hardware/serialport"
	"github.com/gatepost/gatepost/hardware/thermometer"
)

// Thermometer keeps a thermometer open: it is opened at once, opened
// again on demand by Read, and reopened in the background with back-off
// whenever it is lost, so the screen shows it back as soon as it is
// plugged in again rather than at the next scan.
type Thermometer struct {
	port     string
	settings thermometer.Settings
	opts     Options

	openMu sync.Mutex // one open at a time

	mu  sync.Mutex // guards what follows
	dev thermometer.Thermometer
	st  status

	wake chan struct{} // the thermometer was lost: reopen it
	stop context.CancelFunc
	wg   sync.WaitGroup
}

// OpenThermometer opens the thermometer at port (a path, a by-id name or
// usb:VID:PID) and keeps it open until Close. A thermometer that is not
// there is no error: it shows as disconnected and is retried.
func OpenThermometer(port string, s thermometer.Settings, o Options) *Thermometer {
	t := &Thermometer{port: port, settings: s, opts: o.orDefaults(), wake: make(chan struct{}, 1)}
	t.st.Status = Status{Name: NameThermometer, State: StateDisconnected, Port: port}
	t.open()
	ctx, cancel := context.WithCancel(context.Background())
	t.stop = cancel
	t.wg.Go(func() { t.keep(ctx) })
	return t
}

// Status is the thermometer's state now.
func (t *Thermometer) Status() Status {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.st.Status
}

func (t *Thermometer) setState(state, detail string) {
	t.mu.Lock()
	changed := t.st.set(state, detail)
	t.mu.Unlock()
	if changed {
		t.opts.OnChange()
	}
}

func (t *Thermometer) current() thermometer.Thermometer {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.dev
}

func (t *Thermometer) open() (thermometer.Thermometer, error) {
	t.openMu.Lock()
	defer t.openMu.Unlock()
	if dev := t.current(); dev != nil {
		return dev, nil // opened meanwhile
	}
	path, err := serialport.Resolve(t.port)
	var dev thermometer.Thermometer
	if err == nil {
		dev, err = thermometer.Open(path, t.settings)
	}
	if err != nil {
		t.opts.Log.Warn("thermometer unavailable", "port", t.port, "err", err)
		t.setState(StateOf(err), err.Error())
		return nil, err
	}
	t.mu.Lock()
	t.dev = dev
	t.mu.Unlock()
	t.setState(StateConnected, "")
	t.opts.Log.Info("thermometer open", "port", path, "driver", t.settings.Driver)
	return dev, nil
}

// keep reopens the thermometer whenever it is lost, with back-off.
func (t *Thermometer) keep(ctx context.Context) {
	b := t.opts.backoff()
	for {
		if t.current() != nil {
			b.Reset()
			select {
			case <-ctx.Done():
				return
			case <-t.wake:
			}
			continue
		}
		if b.Wait(ctx) != nil {
			return
		}
		t.open()
	}
}

// Read takes one reading within timeout, opening the thermometer first if
// it is not open. A failed read (unless ctx ended) closes the device and
// has it reopened in the background.
func (t *Thermometer) Read(ctx context.Context, timeout time.Duration) (thermometer.Reading, error) {
	dev := t.current()
	if dev == nil {
		var err error
		if dev, err = t.open(); err != nil {
			return thermometer.Reading{}, err
		}
	}
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	r, err := dev.Read(rctx)
	if err != nil {
		if ctx.Err() == nil {
			t.opts.Log.Warn("no reading; will reopen the thermometer", "port", t.port, "err", err)
			t.lost(dev, err)
		}
		return r, err
	}
	t.setState(StateConnected, "")
	return r, nil
}

// lost closes a thermometer that failed and has it reopened.
func (t *Thermometer) lost(dev thermometer.Thermometer, err error) {
	t.mu.Lock()
	if t.dev == dev {
		t.dev = nil
	}
	t.mu.Unlock()
	dev.Close()
	t.setState(StateOf(err), err.Error())
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

// Close stops reopening and closes the device.
func (t *Thermometer) Close() error {
	t.stop()
	t.wg.Wait()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.dev != nil {
		err := t.dev.Close()
		t.dev = nil
		return err
	}
	return nil
}
