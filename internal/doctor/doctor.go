// Package doctor is the shape of `kiosk doctor` and `hub doctor`: a list
// of checks, each OK, WARN or FAIL with what was found and, when not OK,
// what to do, in Chinese and English; printed for a person or as JSON.
// The checks themselves live with the programs.
//
// The kiosk's and the hub's programs import it.
package doctor

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
)

// The statuses, worst last.
const (
	OK   = "OK"
	Warn = "WARN"
	Fail = "FAIL"
)

// Line is one check's outcome.
type Line struct {
	Check  string `json:"check"`
	Status string `json:"status"`
	Found  string `json:"found"`            // what the check saw
	FixZH  string `json:"fix_zh,omitempty"` // what to do, when not OK
	FixEN  string `json:"fix_en,omitempty"`
}

// Report is the lines of one run, in the order checked.
type Report struct {
	Lines []Line `json:"checks"`
}

// OK adds a passing check.
func (r *Report) OK(check, found string) { r.add(Line{Check: check, Status: OK, Found: found}) }

// Warn adds a check that passed with a concern, and what to do about it.
func (r *Report) Warn(check, found, fixZH, fixEN string) {
	r.add(Line{Check: check, Status: Warn, Found: found, FixZH: fixZH, FixEN: fixEN})
}

// Fail adds a failed check and what to do about it.
func (r *Report) Fail(check, found, fixZH, fixEN string) {
	r.add(Line{Check: check, Status: Fail, Found: found, FixZH: fixZH, FixEN: fixEN})
}

func (r *Report) add(l Line) { r.Lines = append(r.Lines, l) }

// Failed reports whether any check failed.
func (r *Report) Failed() bool {
	for _, l := range r.Lines {
		if l.Status == Fail {
			return true
		}
	}
	return false
}

// Find returns the line of check, if any: for tests and callers.
func (r *Report) Find(check string) (Line, bool) {
	for _, l := range r.Lines {
		if l.Check == check {
			return l, true
		}
	}
	return Line{}, false
}

// Print writes the report as JSON, or as aligned lines with each fix
// under its check.
func (r *Report) Print(w io.Writer, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, l := range r.Lines {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", l.Status, l.Check, l.Found)
		if l.Status != OK {
			fmt.Fprintf(tw, "\t\t→ %s\n\t\t→ %s\n", l.FixZH, l.FixEN)
		}
	}
	return tw.Flush()
}

// ErrFailed is returned by a doctor command whose report has a FAIL, so
// that it exits non-zero.
var ErrFailed = fmt.Errorf("a check failed: see the FAIL lines above")
