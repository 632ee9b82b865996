package passes

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gatepost/gatepost/protocol"
)

// FieldError says which field of a request is wrong and why, in a
// sentence a person can act on. It is an ErrBadRequest.
type FieldError struct {
	Field string // "site", "unit", "name", "kind", "from", "until", "reason"
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// Unwrap makes every FieldError an ErrBadRequest.
func (e *FieldError) Unwrap() error { return ErrBadRequest }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Kinds are the kinds of pass, in the order forms offer them.
var Kinds = []protocol.PassKind{protocol.PassResident, protocol.PassTenant, protocol.PassStaff, protocol.PassVolunteer}

// IssueForm is a request to issue one pass as a person types it, on the
// command line (hub passes issue) or in the console's form. Dates are
// days like 2026-06-30: From the first valid day, Until the last.
type IssueForm struct {
	Kind, Site, Unit, Name, From, Until string
}

// Request checks f and turns it into a Request. Days are read in loc; an
// empty From is today (at now, in loc) and an empty Until six months
// after From. Every error is a *FieldError naming the field.
func (f IssueForm) Request(now time.Time, loc *time.Location) (Request, error) {
	req, err := f.Defaults(now, loc)
	if err != nil {
		return Request{}, err
	}
	return req, req.Check()
}

// Defaults reads f as the defaults for the rows of a CSV (ParseCSV): like
// Request, but the unit may be empty and nothing else is checked, since
// each row is.
func (f IssueForm) Defaults(now time.Time, loc *time.Location) (Request, error) {
	req := Request{Kind: protocol.PassKind(strings.ToLower(strings.TrimSpace(f.Kind))),
		Site: strings.TrimSpace(f.Site), Unit: strings.TrimSpace(f.Unit), Name: strings.TrimSpace(f.Name)}
	if req.Kind == "" {
		req.Kind = protocol.PassResident
	}
	y, m, d := now.In(loc).Date()
	req.ValidFrom = time.Date(y, m, d, 0, 0, 0, 0, loc)
	var err error
	if s := strings.TrimSpace(f.From); s != "" {
		if req.ValidFrom, err = ParseDate(s, false, loc); err != nil {
			return Request{}, fieldErr("from", "%v", err)
		}
	}
	req.ValidUntil = req.ValidFrom.AddDate(0, 6, 0)
	if s := strings.TrimSpace(f.Until); s != "" {
		if req.ValidUntil, err = ParseDate(s, true, loc); err != nil {
			return Request{}, fieldErr("until", "%v", err)
		}
	}
	return req, nil
}

// Check reports the first field of r a pass cannot carry, as a
// *FieldError: the same rules the signer applies, said in the words of
// the form (site, unit, name, kind, from, until).
func (r Request) Check() error {
	if !containsKind(r.Kind) {
		return fieldErr("kind", "must be resident, tenant, staff or volunteer, got %q", r.Kind)
	}
	if !protocol.ValidName(r.Site) {
		return fieldErr("site", "must be a compound's id: 1-64 letters, digits, '-' or '_', got %q", r.Site)
	}
	if (r.Kind == protocol.PassResident || r.Kind == protocol.PassTenant) && strings.TrimSpace(r.Unit) == "" {
		return fieldErr("unit", "a %s pass needs a unit (building-room, e.g. 3-502)", r.Kind)
	}
	if err := checkText("unit", strings.TrimSpace(r.Unit), protocol.MaxPassUnit); err != nil {
		return err
	}
	if err := checkText("name", r.Name, 200); err != nil { // only the masked form is kept
		return err
	}
	for _, d := range []struct {
		field string
		t     time.Time
	}{{"from", r.ValidFrom}, {"until", r.ValidUntil}} {
		if s := d.t.Unix(); s <= 0 || s > 0xFFFFFFFF {
			return fieldErr(d.field, "must be a day between 1970 and 2106, got %s", d.t.Format(time.DateOnly))
		}
	}
	if !r.ValidUntil.After(r.ValidFrom) {
		return fieldErr("until", "the last valid day (%s) is before the first (%s)",
			r.ValidUntil.Add(-time.Second).Format(time.DateOnly), r.ValidFrom.Format(time.DateOnly))
	}
	return nil
}

func containsKind(k protocol.PassKind) bool {
	for _, x := range Kinds {
		if x == k {
			return true
		}
	}
	return false
}

func checkText(field, s string, max int) error {
	switch {
	case len(s) > max:
		return fieldErr(field, "is longer than %d bytes", max)
	case !utf8.ValidString(s):
		return fieldErr(field, "is not valid text")
	case strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0:
		return fieldErr(field, "holds unprintable characters: %q", s)
	}
	return nil
}

// CheckReason checks a reason for the status list (shown to the guard):
// required when required, at most protocol.MaxStatusReason bytes,
// printable.
func CheckReason(reason string, required bool) error {
	if required && strings.TrimSpace(reason) == "" {
		return fieldErr("reason", "is required: say why, shortly and with no health details (e.g. reported lost)")
	}
	return checkText("reason", reason, protocol.MaxStatusReason)
}

// ObservationEnd reads the last day of home observation (like
// 2026-03-14, in loc) and returns when it ends: the start of the next
// day, which must be after now.
func ObservationEnd(day string, now time.Time, loc *time.Location) (time.Time, error) {
	if strings.TrimSpace(day) == "" {
		return time.Time{}, fieldErr("until", "is required: the last day of home observation, like 2026-03-14")
	}
	end, err := ParseDate(strings.TrimSpace(day), true, loc)
	if err != nil {
		return time.Time{}, fieldErr("until", "%v", err)
	}
	if !end.After(now) {
		return time.Time{}, fieldErr("until", "the last day of home observation (%s) has passed", day)
	}
	return end, nil
}

// AsFieldError returns err's *FieldError, if it holds one.
func AsFieldError(err error) (*FieldError, bool) {
	var fe *FieldError
	ok := errors.As(err, &fe)
	return fe, ok
}
