package thermometer

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatepost/gatepost/hardware"
	"github.com/gatepost/gatepost/hardware/serialport"
)

// replayPort is a module at the edge of a driver: it hands out the
// queued chunks one per Read, records what the driver writes, and like a
// serialport.Port returns (0, nil) when a short read timeout passes.
type replayPort struct {
	mu     sync.Mutex
	chunks [][]byte
	writes [][]byte
	closed bool
	done   chan struct{} // closed by Close
}

func (p *replayPort) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return 0, errors.New("replay port closed")
	}
	p.writes = append(p.writes, bytes.Clone(b))
	return len(b), nil
}

func (p *replayPort) Read(b []byte) (int, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return 0, errors.New("replay port closed")
	}
	if len(p.chunks) > 0 {
		n := copy(b, p.chunks[0])
		p.chunks = p.chunks[1:]
		p.mu.Unlock()
		return n, nil
	}
	done := p.doneLocked()
	p.mu.Unlock()
	// A real port's read timeout, short so tests of timeouts are quick;
	// Close ends it early, as closing a serialport.Port does.
	select {
	case <-done:
		return 0, errors.New("replay port closed")
	case <-time.After(time.Millisecond):
		return 0, nil
	}
}

// doneLocked returns the channel Close closes; p.mu must be held.
func (p *replayPort) doneLocked() chan struct{} {
	if p.done == nil {
		p.done = make(chan struct{})
	}
	return p.done
}

func (p *replayPort) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.closed {
		close(p.doneLocked())
	}
	p.closed = true
	return nil
}

func (p *replayPort) Writes() [][]byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.writes
}

var fixed = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func quick() QueryOptions {
	return QueryOptions{ReplyTimeout: 50 * time.Millisecond, Retries: 1, Now: func() time.Time { return fixed }}
}

func checkStream(t *testing.T, s stream, r Reading, err error) {
	t.Helper()
	if s.err != "" {
		if err == nil || !strings.Contains(err.Error(), s.err) {
			t.Fatalf("Read() = %+v, %v; want an error containing %q", r, err, s.err)
		}
		return
	}
	if err != nil {
		t.Fatalf("Read() error = %v", err)
	}
	if len(s.wants) != 1 {
		t.Fatalf("golden %s: %d want lines, want one", s.name, len(s.wants))
	}
	want := s.wants[0]
	want.At = fixed
	if r != want {
		t.Fatalf("Read() = %+v, want %+v", r, want)
	}
}

func TestCRC16ModbusVector(t *testing.T) {
	t.Parallel()
	if got := ModbusReadRequest(0x40, 0x03, 0x1006, 1); !bytes.Equal(got, []byte{0x40, 0x03, 0x10, 0x06, 0x00, 0x01, 0x6F, 0xDA}) {
		t.Errorf("ModbusReadRequest(0x40, 3, 0x1006, 1) = % X, want 40 03 10 06 00 01 6F DA", got)
	}
	if got := CRC16Modbus([]byte{0x40, 0x03, 0x02, 0x08, 0xB1}); got != 0xFF43 {
		t.Errorf("CRC16Modbus(40 03 02 08 B1) = %04X, want FF43 (sent 43 FF)", got)
	}
}

func TestModbusGolden(t *testing.T) {
	t.Parallel()
	for _, s := range loadStreams(t, "modbus") {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			port := &replayPort{chunks: s.reads}
			reg := uint16(s.request[2])<<8 | uint16(s.request[3])
			m, err := NewModbus(port, ModbusOptions{Address: 0x40, Function: 3, Register: reg, QueryOptions: quick()})
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			r, err := m.Read(testContext(t))
			checkStream(t, s, r, err)
			if w := port.Writes(); len(w) == 0 || !bytes.Equal(w[0], s.request) {
				t.Errorf("first request = % X, want % X", w, s.request)
			}
		})
	}
}

func TestModbusExceptionIsTyped(t *testing.T) {
	t.Parallel()
	port := &replayPort{chunks: [][]byte{{0x40, 0x83, 0x02, 0x90, 0xE5}}}
	m, _ := NewModbus(port, ModbusOptions{Address: 0x40, Register: 0x1006, QueryOptions: quick()})
	defer m.Close()
	_, err := m.Read(testContext(t))
	var ex *ModbusException
	if !errors.As(err, &ex) || ex.Code != 2 || ex.Name() != "illegal data address" {
		t.Fatalf("Read() error = %v, want a *ModbusException code 2", err)
	}
	if n := len(port.Writes()); n != 1 {
		t.Errorf("requests sent = %d, want 1 (an exception is an answer, not retried)", n)
	}
}

func TestModbusNoReplyRetries(t *testing.T) {
	t.Parallel()
	port := &replayPort{}
	m, _ := NewModbus(port, ModbusOptions{Address: 7, QueryOptions: QueryOptions{ReplyTimeout: 20 * time.Millisecond, Retries: 2}})
	defer m.Close()
	_, err := m.Read(testContext(t))
	if !errors.Is(err, ErrNoReply) || !strings.Contains(err.Error(), "address 7") {
		t.Fatalf("Read() error = %v, want ErrNoReply naming address 7", err)
	}
	if n := len(port.Writes()); n != 3 {
		t.Errorf("requests sent = %d, want 3 (1 + 2 retries)", n)
	}
}

func TestModbusAmbientRegister(t *testing.T) {
	t.Parallel()
	obj := append([]byte{0x01, 0x04, 0x02, 0x0E, 0x42}, 0, 0)
	amb := append([]byte{0x01, 0x04, 0x02, 0x09, 0xC4}, 0, 0)
	for _, f := range [][]byte{obj, amb} {
		c := CRC16Modbus(f[:5])
		f[5], f[6] = byte(c), byte(c>>8)
	}
	port := &replayPort{chunks: [][]byte{obj, amb}}
	m, _ := NewModbus(port, ModbusOptions{Function: 4, Register: 0x0F, AmbientRegister: 0x10, HasAmbient: true, QueryOptions: quick()})
	defer m.Close()
	r, err := m.Read(testContext(t))
	if err != nil || r.Object != 36.5 || r.Ambient != 25 {
		t.Fatalf("Read() = %+v, %v; want 36.50/25.00", r, err)
	}
	w := port.Writes()
	if len(w) != 2 || !bytes.Equal(w[1], ModbusReadRequest(1, 4, 0x10, 1)) {
		t.Errorf("requests = % X, want the object then the ambient register", w)
	}
}

func TestModbusValueDecode(t *testing.T) {
	t.Parallel()
	f := math.Float32bits(36.75)
	fb := []byte{byte(f >> 24), byte(f >> 16), byte(f >> 8), byte(f)}
	tests := []struct {
		name string
		v    ModbusValue
		data []byte
		want float64
	}{
		{"16-bit unsigned", ModbusValue{Scale: 0.01}, []byte{0x08, 0xB1}, 22.25},
		{"16-bit signed negative", ModbusValue{Scale: 0.1, Signed: true}, []byte{0xFF, 0x9C}, -10},
		{"16-bit unsigned high", ModbusValue{Scale: 0.1}, []byte{0xFF, 0x9C}, 6543.6},
		{"32-bit ABCD", ModbusValue{Count: 2, Scale: 0.001}, []byte{0x00, 0x00, 0x8F, 0xAC}, 36.78},
		{"32-bit CDAB", ModbusValue{Count: 2, Scale: 0.001, WordSwap: true}, []byte{0x8F, 0xAC, 0x00, 0x00}, 36.78},
		{"32-bit signed", ModbusValue{Count: 2, Scale: 0.01, Signed: true}, []byte{0xFF, 0xFF, 0xFC, 0x18}, -10},
		{"float ABCD", ModbusValue{Count: 2, Float: true}, fb, 36.75},
		{"float CDAB", ModbusValue{Count: 2, Float: true, WordSwap: true}, append(fb[2:4:4], fb[0:2]...), 36.75},
		{"kelvin", ModbusValue{Scale: 0.01, Offset: -273.15}, []byte{0x77, 0xFB}, 34.0},
	}
	for _, tt := range tests {
		if got := tt.v.decode(tt.data); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("%s: decode(% X) = %v, want %v", tt.name, tt.data, got, tt.want)
		}
	}
}

func TestModbusOptionsValidate(t *testing.T) {
	t.Parallel()
	for _, o := range []ModbusOptions{
		{Address: 248}, {Function: 6}, {Value: ModbusValue{Count: 3}}, {Value: ModbusValue{Float: true}}, {Value: ModbusValue{Scale: -1}},
	} {
		if err := o.Validate(); err == nil {
			t.Errorf("%+v.Validate() = nil, want an error", o)
		}
	}
}

func TestFramedGolden(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"cjmcu-90614", "a4-register"} {
		for _, s := range loadStreams(t, name) {
			t.Run(name+"/"+s.name, func(t *testing.T) {
				t.Parallel()
				p, err := LookupProfile(name)
				if err != nil {
					t.Fatal(err)
				}
				port := &replayPort{chunks: s.reads}
				f, err := NewFramed(port, p, quick())
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				r, err := f.Read(testContext(t))
				checkStream(t, s, r, err)
				if w := port.Writes(); len(w) != 1 || !bytes.Equal(w[0], p.Query) {
					t.Errorf("sent % X, want the query % X once", w, p.Query)
				}
			})
		}
	}
}

func TestFrameProfileValidate(t *testing.T) {
	t.Parallel()
	good, _ := LookupProfile("cjmcu-90614")
	for name, p := range Profiles() {
		if err := p.Validate(); err != nil {
			t.Errorf("built-in profile %s: %v", name, err)
		}
	}
	breakIt := []func(*FrameProfile){
		func(p *FrameProfile) { p.Header = nil },
		func(p *FrameProfile) { p.Length = 2 },
		func(p *FrameProfile) { p.Length = 100 },
		func(p *FrameProfile) { p.Checksum.Kind = "crc32" },
		func(p *FrameProfile) { p.Checksum.At = 20 },
		func(p *FrameProfile) { p.Object.Offset = 8 },
		func(p *FrameProfile) { p.Object.Size = 3 },
		func(p *FrameProfile) { p.Body = &Field{Offset: -1} },
	}
	for i, f := range breakIt {
		p := good
		p.Header = bytes.Clone(good.Header)
		f(&p)
		if err := p.Validate(); err == nil {
			t.Errorf("case %d: %+v.Validate() = nil, want an error", i, p)
		}
	}
}

func TestLineGolden(t *testing.T) {
	t.Parallel()
	for _, s := range loadStreams(t, "line") {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			port := &replayPort{chunks: s.reads}
			l, err := NewLine(port, LineOptions{Pattern: testLinePattern, QueryOptions: quick()})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			r, err := l.Read(testContext(t))
			checkStream(t, s, r, err)
			if w := port.Writes(); len(w) != 0 {
				t.Errorf("sent % X to a module without a query", w)
			}
		})
	}
}

func TestLinePatternErrors(t *testing.T) {
	t.Parallel()
	for _, p := range []string{"(", `(?P<ambient>\d+)`, `(?P<temp>\d+)`} {
		if _, err := NewLineDecoder(p); err == nil {
			t.Errorf("NewLineDecoder(%q) = nil error, want one", p)
		}
	}
}

func TestLimitsCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		r      Reading
		offset float64
		l      Limits
		want   string
	}{
		{Reading{Object: 36.5}, 0, Limits{}, ""},
		{Reading{Object: 33.9}, 0, Limits{}, ReasonBelowRange},
		{Reading{Object: 33.9}, 0.2, Limits{}, ""},
		{Reading{Object: 43.1}, 0, Limits{}, ReasonAboveRange},
		{Reading{Object: 30, Body: 36.6, HasBody: true}, 0, Limits{}, ""},
		{Reading{Object: 36.5, Distance: 60, HasDistance: true}, 0, Limits{DistanceMaxCM: 50}, ReasonTooFar},
		{Reading{Object: 36.5, Distance: 2, HasDistance: true}, 0, Limits{DistanceMinCM: 5}, ReasonTooClose},
		{Reading{Object: 36.5, Distance: 20, HasDistance: true}, 0, Limits{DistanceMinCM: 5, DistanceMaxCM: 50}, ""},
		{Reading{Object: math.NaN()}, 0, Limits{}, ReasonBelowRange},
		{Reading{Object: 38}, 0, Limits{BodyMinC: 30, BodyMaxC: 37.9}, ReasonAboveRange},
	}
	for _, tt := range tests {
		err := tt.l.Check(tt.r, tt.offset)
		var re *RemeasureError
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("Check(%+v, %v) = %v, want nil", tt.r, tt.offset, err)
		case tt.want != "" && (!errors.As(err, &re) || re.Reason != tt.want || !errors.Is(err, ErrRemeasure)):
			t.Errorf("Check(%+v, %v) = %v, want reason %s", tt.r, tt.offset, err, tt.want)
		}
	}
	for _, tt := range []struct {
		l    Limits
		want string
	}{
		{Limits{BodyMinC: 40, BodyMaxC: 35}, "body_min_c/body_max_c = 40-35: the minimum must be below the maximum"},
		{Limits{BodyMinC: 10}, "body_min_c/body_max_c = 10-43: must be a range within 20-50 °C"},
		{Limits{DistanceMinCM: -1}, "distance_min_cm/distance_max_cm = -1-0: must not be negative"},
		{Limits{DistanceMinCM: 50, DistanceMaxCM: 5}, "distance_min_cm/distance_max_cm = 50-5: the minimum must be below the maximum"},
	} {
		if err := tt.l.Validate(); err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("%+v.Validate() = %v, want %q...", tt.l, err, tt.want)
		}
	}
}

func TestSettingsValidate(t *testing.T) {
	t.Parallel()
	ok := []Settings{
		{Driver: "gy-mcu90614"}, {Driver: "cjmcu-90614"}, {Driver: "a4-register"}, {Driver: "modbus"},
		{Driver: "line", Pattern: testLinePattern}, {Driver: "frame", Profile: Profiles()["cjmcu-90614"]},
	}
	for _, s := range ok {
		if err := s.Validate(); err != nil {
			t.Errorf("%s: Validate() = %v", s.Driver, err)
		}
	}
	for _, s := range []Settings{{Driver: "nope"}, {Driver: "line"}, {Driver: "frame"}, {Driver: "modbus", Modbus: ModbusOptions{Function: 9}}} {
		if err := s.Validate(); err == nil {
			t.Errorf("%+v.Validate() = nil, want an error", s)
		}
	}
	// Each bad setting is named as kiosk.toml's [thermometer] section
	// names it, so the configuration only adds the section.
	frame := Profiles()["cjmcu-90614"]
	frame.Object.Offset = 8
	named := []struct {
		s       Settings
		setting string
	}{
		{Settings{Driver: "mlx"}, "driver"},
		{Settings{Driver: "gy-mcu90614", Line: serialport.Config{Baud: 300}}, "baud"},
		{Settings{Driver: "gy-mcu90614", Query: QueryOptions{ReplyTimeout: -time.Second}}, "reply_timeout"},
		{Settings{Driver: "gy-mcu90614", Query: QueryOptions{Retries: MaxRetries + 1}}, "retries"},
		{Settings{Driver: "gy-mcu90614", Query: QueryOptions{PollInterval: -time.Second}}, "poll_interval"},
		{Settings{Driver: "frame", Profile: frame}, "frame.object.offset"},
		{Settings{Driver: "frame"}, "frame.header"},
		{Settings{Driver: "modbus", Modbus: ModbusOptions{Address: 248}}, "modbus.address"},
		{Settings{Driver: "modbus", Modbus: ModbusOptions{Value: ModbusValue{Float: true}}}, "modbus.float"},
		{Settings{Driver: "line", Pattern: "("}, "pattern"},
	}
	for _, tt := range named {
		err := tt.s.Validate()
		var se *hardware.SettingError
		if !errors.As(err, &se) || se.Setting != tt.setting || !strings.HasPrefix(err.Error(), "thermometer: "+tt.setting+" = ") {
			t.Errorf("%+v.Validate() = %v, want a *hardware.SettingError for %s", tt.s, err, tt.setting)
		}
	}
	if b := (Settings{Driver: "cjmcu-90614"}).BaudFor(); b != 115200 {
		t.Errorf("BaudFor(cjmcu-90614) = %d, want 115200", b)
	}
}

func TestModbusPollInterval(t *testing.T) {
	t.Parallel()
	answer := []byte{0x40, 0x03, 0x02, 0x08, 0xB1, 0x43, 0xFF}
	port := &replayPort{chunks: [][]byte{answer}}
	o := quick()
	o.PollInterval = 80 * time.Millisecond
	m, _ := NewModbus(port, ModbusOptions{Address: 0x40, Register: 0x1006, QueryOptions: o})
	defer m.Close()
	if _, err := m.Read(testContext(t)); err != nil {
		t.Fatal(err)
	}
	port.mu.Lock()
	port.chunks = append(port.chunks, answer)
	port.mu.Unlock()
	start := time.Now()
	if _, err := m.Read(testContext(t)); err != nil {
		t.Fatal(err)
	}
	if gap := time.Since(start); gap < 60*time.Millisecond {
		t.Errorf("second request %v after the first, want at least the 80ms poll interval", gap)
	}
}
