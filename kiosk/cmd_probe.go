package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gatepost/gatepost/hardware/scanner"
	"github.com/gatepost/gatepost/hardware/serialport"
	"github.com/gatepost/gatepost/hardware/thermometer"
	"github.com/gatepost/gatepost/kiosk/config"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func newProbeCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "probe",
		Short: "Try a device by hand: print what it reads, or say plainly why not",
	}
	cmd.AddCommand(newProbeThermometerCmd(), newProbeScannerCmd())
	return cmd
}

// thermFlags are the [thermometer] keys a probe can set on the command
// line; each overrides the configuration file only when given.
type thermFlags struct {
	configPath string
	t          config.Thermometer
}

func (f *thermFlags) register(fs *pflag.FlagSet) {
	d := config.Default().Thermometer
	fs.StringVar(&f.configPath, "config", "", "start from this configuration's [thermometer] section")
	fs.StringVar(&f.t.Driver, "driver", d.Driver, "gy-mcu90614, cjmcu-90614, a4-register, frame, modbus or line")
	fs.StringVar(&f.t.Port, "port", d.Port, "a path, /dev/serial/by-id/..., or usb:VID:PID[:SERIAL]")
	fs.IntVar(&f.t.Baud, "baud", 0, "line speed; 0: the driver's usual speed")
	fs.Var((*durationFlag)(&f.t.ReplyTimeout), "reply-timeout", "how long one request waits for an answer")
	fs.IntVar(&f.t.Retries, "retries", d.Retries, "how many times a request is sent again")
	fs.IntVar(&f.t.Modbus.Address, "address", d.Modbus.Address, "modbus: slave address")
	fs.IntVar(&f.t.Modbus.Function, "function", d.Modbus.Function, "modbus: 3 (holding) or 4 (input registers)")
	fs.IntVar(&f.t.Modbus.Register, "register", d.Modbus.Register, "modbus: the object temperature's register")
	fs.IntVar(&f.t.Modbus.Count, "registers", d.Modbus.Count, "modbus: 1 (16-bit) or 2 (32-bit)")
	fs.Float64Var(&f.t.Modbus.Scale, "scale", d.Modbus.Scale, "modbus: °C per count")
	fs.BoolVar(&f.t.Modbus.Signed, "signed", d.Modbus.Signed, "modbus: values are signed")
	fs.BoolVar(&f.t.Modbus.Float, "float", d.Modbus.Float, "modbus: 32-bit IEEE float")
	fs.StringVar(&f.t.Modbus.WordOrder, "word-order", d.Modbus.WordOrder, "modbus: big (ABCD) or little (CDAB)")
	fs.IntVar(&f.t.Modbus.AmbientRegister, "ambient-register", d.Modbus.AmbientRegister, "modbus: ambient register, -1 for none")
	fs.StringVar(&f.t.Pattern, "pattern", "", "line: regular expression with named groups object, ambient, body, distance")
	fs.StringVar(&f.t.Command, "command", "", "line: sent before each reading")
	f.t.ReplyTimeout = d.ReplyTimeout
}

// resolve merges the flags given over the configuration (or defaults).
func (f *thermFlags) resolve(fs *pflag.FlagSet) (config.Thermometer, error) {
	base, err := loadConfig(f.configPath)
	if err != nil {
		return config.Thermometer{}, err
	}
	t := base.Thermometer
	set := func(name string, apply func()) {
		if fs.Changed(name) {
			apply()
		}
	}
	set("driver", func() { t.Driver = f.t.Driver })
	set("port", func() { t.Port = f.t.Port })
	set("baud", func() { t.Baud = f.t.Baud })
	set("reply-timeout", func() { t.ReplyTimeout = f.t.ReplyTimeout })
	set("retries", func() { t.Retries = f.t.Retries })
	set("address", func() { t.Modbus.Address = f.t.Modbus.Address })
	set("function", func() { t.Modbus.Function = f.t.Modbus.Function })
	set("register", func() { t.Modbus.Register = f.t.Modbus.Register })
	set("registers", func() { t.Modbus.Count = f.t.Modbus.Count })
	set("scale", func() { t.Modbus.Scale = f.t.Modbus.Scale })
	set("signed", func() { t.Modbus.Signed = f.t.Modbus.Signed })
	set("float", func() { t.Modbus.Float = f.t.Modbus.Float })
	set("word-order", func() { t.Modbus.WordOrder = f.t.Modbus.WordOrder })
	set("ambient-register", func() { t.Modbus.AmbientRegister = f.t.Modbus.AmbientRegister })
	set("pattern", func() { t.Pattern = f.t.Pattern })
	set("command", func() { t.Command = f.t.Command })
	t.Simulate = false
	// Validate the section the way the kiosk will.
	check := base
	check.Thermometer = t
	if err := check.Validate(); err != nil {
		return t, err
	}
	return t, nil
}

// openThermometer opens the module a [thermometer] section names, with
// failures explained for an installer.
func openThermometer(t config.Thermometer) (thermometer.Thermometer, thermometer.Settings, string, error) {
	s, err := t.Settings()
	if err == nil {
		err = s.Validate()
	}
	if err != nil {
		return nil, s, "", err
	}
	path, err := serialport.Resolve(t.Port)
	if err != nil {
		return nil, s, "", explain(err, t.Port, s.BaudFor())
	}
	th, err := thermometer.Open(path, s)
	if err != nil {
		return nil, s, path, explain(err, path, s.BaudFor())
	}
	return th, s, path, nil
}

func newProbeThermometerCmd() *cobra.Command {
	var f thermFlags
	var count int
	var interval time.Duration
	cmd := &cobra.Command{
		Use:   "thermometer",
		Short: "Print live readings until Ctrl-C or --count",
		Example: `  kiosk probe thermometer --driver gy-mcu90614 --port /dev/ttyUSB0
  kiosk probe thermometer --driver modbus --port /dev/ttyUSB0 --address 64 --register 0x1006 --count 5
  kiosk probe thermometer --config kiosk.toml`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t, err := f.resolve(cmd.Flags())
			if err != nil {
				return err
			}
			th, s, path, err := openThermometer(t)
			if err != nil {
				return err
			}
			defer th.Close()
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "probing %s: driver %s at %d baud\n", path, s.Driver, s.BaudFor())
			return probeThermometer(cmd.Context(), out, th, t.Limits(), count, interval, path, s.BaudFor())
		},
	}
	f.register(cmd.Flags())
	cmd.Flags().IntVar(&count, "count", 0, "stop after this many readings (0: until Ctrl-C)")
	cmd.Flags().DurationVar(&interval, "interval", time.Second, "time between readings")
	return cmd
}

func probeThermometer(ctx context.Context, out io.Writer, th thermometer.Thermometer, limits thermometer.Limits, count int, interval time.Duration, path string, baud int) error {
	failures := 0
	for n := 1; count == 0 || n <= count; n++ {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		r, err := th.Read(rctx)
		cancel()
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, serialport.ErrGone) || errors.Is(err, serialport.ErrClosed):
			return explain(err, path, baud)
		case err != nil:
			failures++
			fmt.Fprintf(out, "%3d  no reading: %v\n", n, explain(err, path, baud))
		default:
			fmt.Fprintf(out, "%3d  %s\n", n, formatReading(r, limits))
		}
		if count != 0 && n == count {
			break
		}
		t := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
	if st, ok := thermometer.StatsOf(th); ok {
		fmt.Fprintf(out, "frames %d, damaged %d, stray bytes %d\n", st.Frames, st.BadChecksum, st.Garbage)
	}
	if count > 0 && failures == count {
		return fmt.Errorf("no reading in %d tries", count)
	}
	return nil
}

func formatReading(r thermometer.Reading, limits thermometer.Limits) string {
	s := fmt.Sprintf("object %6.2f °C", r.Object)
	if r.HasAmbient {
		s += fmt.Sprintf("  ambient %6.2f °C", r.Ambient)
	}
	if r.HasBody {
		s += fmt.Sprintf("  body %6.2f °C", r.Body)
	}
	if r.HasDistance {
		s += fmt.Sprintf("  distance %4.0f cm", r.Distance)
	}
	if err := limits.Check(r, 0); err != nil {
		return s + "  -> " + err.Error()
	}
	return s + "  -> plausible"
}

func newProbeScannerCmd() *cobra.Command {
	var port, configPath string
	var count int
	var sc config.Scanner
	cmd := &cobra.Command{
		Use:   "scanner",
		Short: "Print each code the scanner reads until Ctrl-C or --count",
		Example: `  kiosk probe scanner --port /dev/ttyACM0
  kiosk probe scanner --port usb:0C2E:0B61 --baud 115200 --trigger honeywell --count 3
  kiosk probe scanner --driver hid --port /dev/input/by-id/usb-SCANNER-event-kbd`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			base, err := loadConfig(configPath)
			if err != nil {
				return err
			}
			c := base.Scanner
			fs := cmd.Flags()
			if fs.Changed("driver") {
				c.Driver = sc.Driver
			}
			if fs.Changed("port") {
				c.Port = port
			}
			if fs.Changed("baud") {
				c.Baud = sc.Baud
			}
			if fs.Changed("trigger") {
				c.Trigger = sc.Trigger
			}
			if fs.Changed("strip-aim") {
				c.StripAIM = sc.StripAIM
			}
			settings := c.Settings()
			settings.DuplicateWindow = -1 // show every read
			if err := settings.Validate(); err != nil {
				return err
			}
			path := c.Port
			if c.Driver == "serial" {
				var err error
				if path, err = serialport.Resolve(c.Port); err != nil {
					return explain(err, c.Port, c.Baud)
				}
			}
			s, err := scanner.Open(path, settings)
			if err != nil {
				return explain(err, path, c.Baud)
			}
			defer s.Close()
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "probing %s (%s, %d baud): scan a code\n", path, c.Driver, c.Baud)
			for n := 1; count == 0 || n <= count; n++ {
				code, err := s.Next(cmd.Context())
				switch {
				case cmd.Context().Err() != nil:
					return nil
				case errors.Is(err, scanner.ErrTooLong) || errors.Is(err, scanner.ErrInvalidUTF8):
					fmt.Fprintf(out, "%3d  unreadable: %v (check the baud rate)\n", n, err)
				case err != nil:
					return explain(err, path, c.Baud)
				default:
					fmt.Fprintf(out, "%3d  %q\n", n, code.Text)
				}
			}
			return nil
		},
	}
	d := config.Default().Scanner
	cmd.Flags().StringVar(&configPath, "config", "", "start from this configuration's [scanner] section")
	cmd.Flags().StringVar(&sc.Driver, "driver", d.Driver, "serial, hid or stdin")
	cmd.Flags().StringVar(&port, "port", d.Port, "serial: a path, /dev/serial/by-id/..., or usb:VID:PID[:SERIAL]; hid: the -event-kbd node")
	cmd.Flags().IntVar(&sc.Baud, "baud", d.Baud, "serial: line speed")
	cmd.Flags().StringVar(&sc.Trigger, "trigger", "", "serial trigger mode: honeywell, gm65, zkteco or datalogic")
	cmd.Flags().BoolVar(&sc.StripAIM, "strip-aim", d.StripAIM, "remove AIM prefixes such as ]Q1")
	cmd.Flags().IntVar(&count, "count", 0, "stop after this many codes (0: until Ctrl-C)")
	return cmd
}

// durationFlag lets a config.Duration be a flag.
type durationFlag config.Duration

func (d *durationFlag) String() string { return config.Duration(*d).String() }
func (d *durationFlag) Type() string   { return "duration" }
func (d *durationFlag) Set(s string) error {
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = durationFlag(v)
	return nil
}
