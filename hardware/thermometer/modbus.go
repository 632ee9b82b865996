package thermometer

import (
	"context"
	"fmt"
	"io"

	"github.com/gatepost/gatepost/hardware"
	"github.com/gatepost/gatepost/hardware/serialport"
)

// ModbusOptions configures a Modbus RTU thermometer. Zero fields take the
// defaults of Calex PyroUSB-style sensors: address 1, function 0x03, one
// signed register in hundredths of a degree.
type ModbusOptions struct {
	Address  byte   // slave address 1-247; 0 means 1
	Function byte   // 0x03 (holding) or 0x04 (input registers); 0 means 0x03
	Register uint16 // the object (target) temperature's first register
	Value    ModbusValue
	// AmbientRegister, if HasAmbient, is read with a second request and
	// decoded like Value.
	AmbientRegister uint16
	HasAmbient      bool
	QueryOptions
}

// Validate names the first bad field: a *hardware.SettingError wrapped in
// "modbus: ". Its QueryOptions are checked by their own Validate.
func (o ModbusOptions) Validate() error {
	bad := func(setting string, v any, want string) error {
		return fmt.Errorf("modbus: %w", &hardware.SettingError{Setting: setting, Value: v, Want: want})
	}
	switch {
	case o.Address > 247:
		return bad("address", o.Address, "must be 1 to 247")
	case o.Function != 0 && o.Function != 3 && o.Function != 4:
		return bad("function", o.Function, "must be 3 (holding registers) or 4 (input registers)")
	case o.Value.Count > 2:
		return bad("count", o.Value.Count, "must be 1 (16-bit) or 2 (32-bit)")
	case o.Value.Float && o.Value.count() != 2:
		return bad("float", true, "needs count = 2: an IEEE float is 32 bits")
	case o.Value.Scale < 0:
		return bad("scale", o.Value.Scale, "must be positive, e.g. 0.01 or 0.1")
	}
	return nil
}

func (o ModbusOptions) withDefaults() ModbusOptions {
	if o.Address == 0 {
		o.Address = 1
	}
	if o.Function == 0 {
		o.Function = 3
	}
	if o.Value.Count == 0 {
		o.Value.Count = 1
	}
	if o.Value.Scale == 0 {
		o.Value.Scale = 0.01
	}
	o.QueryOptions = o.QueryOptions.withDefaults()
	return o
}

// Modbus drives a Modbus RTU thermometer: each Read sends a read request
// for the object register (and the ambient register if configured) and
// decodes the answers.
type Modbus struct {
	q       queryDriver
	opts    ModbusOptions
	object  *ModbusDecoder
	ambient *ModbusDecoder
}

var _ Thermometer = (*Modbus)(nil)

// NewModbus returns a driver for the module on port. The driver owns port
// and closes it on Close.
func NewModbus(port io.ReadWriteCloser, opts ModbusOptions) (*Modbus, error) {
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("thermometer: %w", err)
	}
	opts = opts.withDefaults()
	m := &Modbus{opts: opts, object: NewModbusDecoder(opts.Address, opts.Function, opts.Value)}
	if opts.HasAmbient {
		m.ambient = NewModbusDecoder(opts.Address, opts.Function, opts.Value)
	}
	m.q = queryDriver{
		port: port, opts: opts.QueryOptions,
		what: fmt.Sprintf("Modbus module at address %d", opts.Address),
		hint: "check the baud rate, the slave address and that A/B are not swapped",
	}
	return m, nil
}

// OpenModbus opens the serial port at path with line (9600 8N1 by
// default) and returns a driver for the module on it.
func OpenModbus(path string, line serialport.Config, opts ModbusOptions) (*Modbus, error) {
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("thermometer: %w", err)
	}
	p, err := serialport.Open(path, line)
	if err != nil {
		return nil, fmt.Errorf("thermometer: %w", err)
	}
	return NewModbus(p, opts)
}

// Read asks for the object temperature (and the ambient if configured).
// A refusal returns an error wrapping *ModbusException at once; a damaged
// or missing answer is asked again Retries times.
func (m *Modbus) Read(ctx context.Context) (Reading, error) {
	m.q.mu.Lock()
	defer m.q.mu.Unlock()
	o := m.opts
	r, err := m.q.exchange(ctx, ModbusReadRequest(o.Address, o.Function, o.Register, o.Value.count()), m.object)
	if err != nil {
		return Reading{}, err
	}
	if m.ambient != nil {
		a, err := m.q.exchange(ctx, ModbusReadRequest(o.Address, o.Function, o.AmbientRegister, o.Value.count()), m.ambient)
		if err != nil {
			return Reading{}, fmt.Errorf("ambient register: %w", err)
		}
		r.Ambient, r.HasAmbient = a.Object, true
	}
	return r, nil
}

// Stats returns what the driver has received so far.
func (m *Modbus) Stats() Stats {
	s := m.object.Stats()
	if m.ambient != nil {
		a := m.ambient.Stats()
		s.Frames, s.BadChecksum, s.Garbage = s.Frames+a.Frames, s.BadChecksum+a.BadChecksum, s.Garbage+a.Garbage
	}
	return s
}

// Close closes the port, which ends a Read in progress.
func (m *Modbus) Close() error { return m.q.close() }
