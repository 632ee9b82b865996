package scanner

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"
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

// Validate names the first bad setting.
func (s Settings) Validate() error {
	switch s.Driver {
	case "serial", "hid", "stdin":
	default:
		return fmt.Errorf("scanner driver %q: must be serial, hid or stdin", s.Driver)
	}
	if s.Trigger != "" {
		if _, ok := Triggers()[s.Trigger]; !ok {
			return fmt.Errorf("scanner trigger %q: must be empty or one of %s", s.Trigger, strings.Join(TriggerNames(), ", "))
		}
		if s.Driver != "serial" {
			return fmt.Errorf("scanner trigger %q: only a serial scanner takes trigger commands", s.Trigger)
		}
	}
	if s.IdleGap < 0 {
		return fmt.Errorf("scanner idle gap %v: must not be negative", s.IdleGap)
	}
	return nil
}

// Open opens the scanner at path (ignored for stdin) with the driver s
// names, wrapped in duplicate suppression unless that is turned off.
func Open(path string, s Settings) (Scanner, error) {
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("scanner: %w", err)
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
