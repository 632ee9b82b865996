package scanner

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/gatepost/gatepost/hardware"
	"github.com/gatepost/gatepost/hardware/serialport"
)

// Settings choose and configure a scanner driver, as a kiosk's
// configuration names it.
type Settings struct {
	Driver    string // "serial", "hid" or "stdin"
	Baud      int    // serial: 0 means 9600
	MaxLength int    // 0 means DefaultMaxLength
	StripAIM  bool   // remove ]Q1-style prefixes
	NoRead    []string
	Trigger   string        // serial: "", or a name from Triggers()
	IdleGap   time.Duration // serial: end a code after this silence; 0: off
	// DuplicateWindow drops a repeat of the same code within it; 0
	// means DefaultDuplicateWindow, negative turns suppression off.
	DuplicateWindow time.Duration
	Now             func() time.Time
}

// TriggerNames returns the built-in trigger profiles' names, sorted.
func TriggerNames() []string {
	var names []string
	for n := range Triggers() {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Validate names the first bad setting: a *hardware.SettingError, its
// setting spelled as kiosk.toml's [scanner] section spells it, wrapped in
// "scanner: ".
func (s Settings) Validate() error {
	if err := s.validate(); err != nil {
		return fmt.Errorf("scanner: %w", err)
	}
	return nil
}

func (s Settings) validate() error {
	bad := func(setting string, v any, want string) error {
		return &hardware.SettingError{Setting: setting, Value: v, Want: want}
	}
	switch s.Driver {
	case "serial", "hid", "stdin":
	default:
		return bad("driver", s.Driver, `must be "serial", "hid" or "stdin"`)
	}
	if err := (serialport.Config{Baud: s.Baud}).Validate(); err != nil {
		return err
	}
	if s.Trigger != "" {
		if _, ok := Triggers()[s.Trigger]; !ok {
			return bad("trigger", s.Trigger, `must be "" (the scanner reads by itself) or one of `+strings.Join(TriggerNames(), ", "))
		}
		if s.Driver != "serial" {
			return bad("trigger", s.Trigger, `works only with driver = "serial": only a serial scanner takes trigger commands`)
		}
	}
	if s.IdleGap < 0 {
		return bad("idle_gap", s.IdleGap, `must not be negative ("0s": off)`)
	}
	return nil
}

// Open opens the scanner at path (ignored for stdin) with the driver s
// names, wrapped in duplicate suppression unless that is turned off.
func Open(path string, s Settings) (Scanner, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	var sc Scanner
	switch s.Driver {
	case "serial":
		opts := SerialOptions{MaxLength: s.MaxLength, Now: s.Now, StripAIM: s.StripAIM, NoRead: s.NoRead, IdleGap: s.IdleGap}
		if s.Trigger != "" {
			t := Triggers()[s.Trigger]
			opts.Trigger = &t
		}
		ser, err := OpenSerial(path, s.Baud, opts)
		if err != nil {
			return nil, err
		}
		sc = ser
	case "hid":
		h, err := OpenHID(path, HIDOptions{MaxLength: s.MaxLength, Now: s.Now, StripAIM: s.StripAIM})
		if err != nil {
			return nil, err
		}
		sc = h
	case "stdin":
		// Hide Close: closing standard input would end it for good.
		sc = NewReader(struct{ io.Reader }{os.Stdin}, s.MaxLength, s.Now)
	}
	if s.DuplicateWindow < 0 {
		return sc, nil
	}
	return Dedupe(sc, s.DuplicateWindow, s.Now), nil
}
