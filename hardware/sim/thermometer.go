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

// ThermometerOptions configures a simulated thermometer. Zero fields take
// their defaults.
type ThermometerOptions struct {
	// Protocol is the wire format: GYMCU90614 (the default),
	// CJMCU90614, A4Register, ModbusRTU or LineASCII.
	Protocol string
	// Modbus: the slave address (default 0x40) and the registers holding
	// object (default 0x1006) and ambient (default 0x1007) temperatures.
	ModbusAddress                               byte
	ModbusObjectRegister, ModbusAmbientRegister uint16

	Object     func() float64 // object temperature in °C; default 36.5
	Ambient    func() float64 // ambient temperature in °C; default 25.0
	Interval   time.Duration  // frame interval in continuous mode; default 100 ms
	SplitPause time.Duration  // pause between the halves of a split frame; default 20 ms
}

// Thermometer is a simulated thermometer module on a pseudo-terminal,
// speaking one of the protocols above. A GY-MCU90614 answers the query
// command A5 15 BA with one frame, and after A5 45 EA sends a frame every
// Interval until the next query; the others behave alike with their own
// bytes, and the line module sends a line every Interval by itself.
type Thermometer struct {
	pty   *ptyPair
	opts  ThermometerOptions
	proto protocol

	mu        sync.Mutex
	object    func() float64
	ambient   func() float64
	body      *float64
	distance  *float64
	corrupt   int
	split     bool
	silent    bool
	exception byte
	unplugMid bool

	commands  chan command
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
	if opts.ModbusAddress == 0 {
		opts.ModbusAddress = 0x40
	}
	if opts.ModbusObjectRegister == 0 && opts.ModbusAmbientRegister == 0 {
		opts.ModbusObjectRegister, opts.ModbusAmbientRegister = 0x1006, 0x1007
	}
	proto, err := newProtocol(opts.Protocol, opts)
	if err != nil {
		return nil, err
	}
	p, err := openPTY()
	if err != nil {
		return nil, err
	}
	t := &Thermometer{
		pty:      p,
		opts:     opts,
		proto:    proto,
		object:   opts.Object,
		ambient:  opts.Ambient,
		commands: make(chan command, 16),
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

// SetBody makes the module report a compensated body temperature (on the
// protocols that carry one: A4Register, LineASCII); nil stops it.
func (t *Thermometer) SetBody(body *float64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.body = body
}

// SetDistance makes the line module report a distance in cm; nil stops it.
func (t *Thermometer) SetDistance(cm *float64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.distance = cm
}

// SetException makes a Modbus module refuse every request with the given
// exception code (2: illegal data address); 0 answers normally again.
func (t *Thermometer) SetException(code byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.exception = code
}

// UnplugMidFrame makes the module send the first half of its next frame
// and then vanish, as when a cable is pulled during a transfer: the
// pseudo-terminal closes and its path disappears. Close still cleans up.
func (t *Thermometer) UnplugMidFrame() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.unplugMid = true
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
	var window []byte
	buf := make([]byte, 64)
	for {
		n, err := t.pty.leader.Read(buf)
		for _, b := range buf[:n] {
			if len(window) == 16 {
				window = append(window[:0], window[1:]...)
			}
			window = append(window, b)
			if cmd, ok := t.proto.match(window); ok {
				select {
				case t.commands <- cmd:
				case <-t.done:
					return
				}
				window = window[:0]
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
	var streaming command
	if t.proto.streams() {
		ticker = time.NewTicker(t.opts.Interval)
		tick = ticker.C
	}
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
			if cmd.continuous {
				streaming = cmd
				if ticker == nil {
					ticker = time.NewTicker(t.opts.Interval)
					tick = ticker.C
				}
				continue
			}
			if ticker != nil {
				ticker.Stop()
				ticker, tick = nil, nil
			}
			t.sendFrame(cmd)
		case <-tick:
			t.sendFrame(streaming)
		}
	}
}

func (t *Thermometer) sendFrame(cmd command) {
	t.mu.Lock()
	if t.silent {
		t.mu.Unlock()
		return
	}
	v := values{object: t.object(), ambient: t.ambient(), body: t.body, distance: t.distance}
	frame := t.proto.frame(v, cmd, t.exception)
	if frame == nil {
		t.mu.Unlock()
		return
	}
	if t.corrupt > 0 {
		t.corrupt--
		t.proto.corrupt(frame)
	}
	split, unplug := t.split, t.unplugMid
	t.mu.Unlock()

	if unplug {
		t.write(frame[:len(frame)/2])
		t.pty.close()
		return
	}

	if !split {
		t.write(frame)
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
