// Package protocoltest builds protocol values for tests: Entry is the one
// entry builder of gatepost's tests, a valid entry that options change.
//
// Only tests import protocoltest; it imports only protocol.
package protocoltest

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/gatepost/gatepost/protocol"
)

// T0 is the time of an entry built without At: a fixed, recognisable
// instant, so that tests never depend on the wall clock.
var T0 = time.Date(2026, 2, 1, 8, 30, 0, 0, time.UTC)

// Option changes an entry Entry builds.
type Option func(*protocol.Entry)

// Entry returns a valid entry: a resident's check at T0, a normal reading
// of 36.5 °C, decision allow for temperature_normal, then each option
// applied in turn. An entry given a sequence number and no id gets an id
// that differs by kiosk and sequence (a journal assigns both itself).
func Entry(opts ...Option) protocol.Entry {
	e := protocol.Entry{
		Time:        T0,
		Kind:        protocol.KindCheck,
		Temperature: &protocol.Reading{ObjectC: 36.5, ScreenedC: 36.5},
		Decision:    protocol.DecisionAllow,
		Reasons:     []string{protocol.ReasonTemperatureNormal},
	}
	for _, o := range opts {
		o(&e)
	}
	if e.ID == "" && e.Seq > 0 {
		e.ID = fmt.Sprintf("0190d6e4-7a4b-7cc0-%04x-%012x", len(e.Kiosk), e.Seq%(1<<48))
	}
	return e
}

// Kiosk sets the kiosk.
func Kiosk(k string) Option { return func(e *protocol.Entry) { e.Kiosk = k } }

// Seq sets the sequence number, and the time to T0 plus that many seconds
// (order by sequence and by time then agree).
func Seq(n uint64) Option {
	return func(e *protocol.Entry) { e.Seq, e.Time = n, T0.Add(time.Duration(n)*time.Second) }
}

// ID sets the entry's id.
func ID(id string) Option { return func(e *protocol.Entry) { e.ID = id } }

// At sets the kiosk's time of the entry.
func At(t time.Time) Option { return func(e *protocol.Entry) { e.Time = t } }

// Scan sets the scanned text.
func Scan(s string) Option { return func(e *protocol.Entry) { e.Scan = s } }

// Kind sets the kind, and drops the reading for a kind that is not a
// check or a visitor.
func Kind(k protocol.Kind) Option {
	return func(e *protocol.Entry) {
		e.Kind = k
		if k != protocol.KindCheck && k != protocol.KindVisitor {
			e.Temperature = nil
		}
	}
}

// Decision sets the decision and the reasons (none: an empty list).
func Decision(d protocol.Decision, reasons ...string) Option {
	return func(e *protocol.Entry) { e.Decision, e.Reasons = d, append([]string{}, reasons...) }
}

// Alert makes the entry an alert (decision alert) for reasons.
func Alert(reasons ...string) Option {
	return func(e *protocol.Entry) {
		e.Decision, e.Alert, e.Reasons = protocol.DecisionAlert, true, append([]string{}, reasons...)
	}
}

// Celsius sets the reading (object and screened alike).
func Celsius(c float64) Option {
	return func(e *protocol.Entry) { e.Temperature = &protocol.Reading{ObjectC: c, ScreenedC: c} }
}

// NoReading drops the reading.
func NoReading() Option { return func(e *protocol.Entry) { e.Temperature = nil } }

// Pass sets the pass shown and its unit.
func Pass(id, unit string) Option { return func(e *protocol.Entry) { e.Pass, e.Unit = id, unit } }

// With applies f, for a field no other option sets.
func With(f func(*protocol.Entry)) Option { return Option(f) }

// ReadBundle reads and decodes the export bundle at path (kiosk export).
func ReadBundle(tb testing.TB, path string) protocol.Bundle {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	b, err := protocol.DecodeBundle(data)
	if err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	return b
}
