package sim

import (
	"math"
	"sync"
	"time"
)

// GY-MCU90614 wire format, written out here rather than borrowed from the
// driver so that a mistake in one does not hide in the other.
var (
	gyQuery      = [3]byte{0xA5, 0x15, 0xBA}
	gyContinuous = [3]byte{0xA5, 0x45, 0xEA}
)

// ThermometerOptions configures a simulated GY-MCU90614. Zero fields take
// their defaults.
type ThermometerOptions struct {
	Object     func() float64 // object temperature in °C; default 36.5
	Ambient    func() float64 // ambient temperature in °C; default 25.0
	Interval   time.Duration  // frame interval in continuous mode; default 100 ms
	SplitPause time.Duration  // pause between the halves of a split frame; default 20 ms
}

// Thermometer is a simulated GY-MCU90614 module on a pseudo-terminal. It
// answers the query command A5 15 BA with one frame, and after A5 45 EA
// sends a frame every Interval until the next query.
type Thermometer struct {
	pty  *ptyPair
	opts ThermometerOptions

	mu      sync.Mutex
	object  func() float64
	ambient func() float64
	corrupt int
	split   bool
	silent  bool

	commands  chan [3]byte
	done      chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

// NewThermometer starts a simulated thermometer. Close it when done.
func NewThermometer(opts ThermometerOptions) (*Thermometer, error) {
	if opts.Object == nil {
		opts.Object = func() float64 { return 36.5 }
	}
	if opts.Ambient == nil {
		opts.Ambient = func() float64 { return 25.0 }
	}
	if opts.Interval <= 0 {
		opts.Interval = 100 * time.Millisecond
	}
	if opts.SplitPause <= 0 {
		opts.SplitPause = 20 * time.Millisecond
	}
	p, err := openPTY()
	if err != nil {
		return nil, err
	}
	t := &Thermometer{
		pty:      p,
		opts:     opts,
		object:   opts.Object,
		ambient:  opts.Ambient,
		commands: make(chan [3]byte, 16),
		done:     make(chan struct{}),
	}
	t.wg.Add(2)
	go t.readCommands()
	go t.run()
	return t, nil
}

// Path returns the pseudo-terminal to open with the real driver.
func (t *Thermometer) Path() string { return t.pty.path }

// SetTemperature makes the module report fixed temperatures from now on.
func (t *Thermometer) SetTemperature(object, ambient float64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.object = func() float64 { return object }
	t.ambient = func() float64 { return ambient }
}

// CorruptNext makes the next n frames carry a wrong checksum.
func (t *Thermometer) CorruptNext(n int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.corrupt = n
}

// SetSplit makes the module write each frame in two parts with a pause
// between them, so a driver receives it across two reads.
func (t *Thermometer) SetSplit(split bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.split = split
}

// SetSilent makes the module ignore queries and stop sending, like a
// module with a broken TX line.
func (t *Thermometer) SetSilent(silent bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.silent = silent
}

// ReleaseExclusive clears the exclusive-open flag that a killed driver
// leaves on the pseudo-terminal. Call it after killing a process that had
// the port open and before starting its replacement; only a non-root
// replacement needs it.
func (t *Thermometer) ReleaseExclusive() error { return t.pty.releaseExclusive() }

// Close stops the simulator and removes its pseudo-terminal. A driver that
// still has it open then gets an error on its next read.
func (t *Thermometer) Close() error {
	t.closeOnce.Do(func() {
		close(t.done)
		t.closeErr = t.pty.close()
		t.wg.Wait()
	})
	return t.closeErr
}

// readCommands reads what drivers send and passes on each command it
// recognises, skipping anything else byte by byte as the module would.
func (t *Thermometer) readCommands() {
	defer t.wg.Done()
	var window [3]byte
	buf := make([]byte, 64)
	for {
		n, err := t.pty.leader.Read(buf)
		for _, b := range buf[:n] {
			window = [3]byte{window[1], window[2], b}
			if window == gyQuery || window == gyContinuous {
				select {
				case t.commands <- window:
				case <-t.done:
					return
				}
				window = [3]byte{}
			}
		}
		if err != nil {
			return // the leader was closed
		}
	}
}

// run is the module's main loop: it answers commands and, in continuous
// mode, sends a frame on every tick.
func (t *Thermometer) run() {
	defer t.wg.Done()
	var tick <-chan time.Time
	var ticker *time.Ticker
	defer func() {
		if ticker != nil {
			ticker.Stop()
		}
	}()
	for {
		select {
		case <-t.done:
			return
		case cmd := <-t.commands:
			switch cmd {
			case gyQuery:
				if ticker != nil {
					ticker.Stop()
					ticker, tick = nil, nil
				}
				t.sendFrame()
			case gyContinuous:
				if ticker == nil {
					ticker = time.NewTicker(t.opts.Interval)
					tick = ticker.C
				}
			}
		case <-tick:
			t.sendFrame()
		}
	}
}

func (t *Thermometer) sendFrame() {
	t.mu.Lock()
	if t.silent {
		t.mu.Unlock()
		return
	}
	frame := gyFrame(t.object(), t.ambient())
	if t.corrupt > 0 {
		t.corrupt--
		frame[8]++
	}
	split := t.split
	t.mu.Unlock()

	if !split {
		t.write(frame[:])
		return
	}
	if !t.write(frame[:4]) {
		return
	}
	pause := time.NewTimer(t.opts.SplitPause)
	defer pause.Stop()
	select {
	case <-pause.C:
		t.write(frame[4:])
	case <-t.done:
	}
}

// write writes p to the leader and reports whether that worked; it fails
// only once Close has closed the leader.
func (t *Thermometer) write(p []byte) bool {
	_, err := t.pty.leader.Write(p)
	return err == nil
}

// gyFrame encodes temperatures the way the module does: signed 16-bit
// hundredths of a degree, big-endian, then the low byte of the sum of the
// eight bytes before it.
func gyFrame(object, ambient float64) [9]byte {
	o, a := centi(object), centi(ambient)
	f := [9]byte{0x5A, 0x5A, 0x45, 0x04, byte(o >> 8), byte(o), byte(a >> 8), byte(a)}
	for _, b := range f[:8] {
		f[8] += b
	}
	return f
}

func centi(celsius float64) uint16 {
	v := math.Round(celsius * 100)
	v = math.Max(math.MinInt16, math.Min(math.MaxInt16, v))
	return uint16(int16(v))
}
