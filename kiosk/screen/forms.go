package screen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gatepost/gatepost/kiosk/words"
)

// Gate is what the forms need from the daemon. Each call journals (or
// arms) what the guard tapped; the result reaches the page as State.Last
// by server-sent events, never in the response, so a page that reloads
// mid-flow shows exactly what the journal holds.
type Gate interface {
	// Visitor takes the visitor's temperature and journals the answers.
	Visitor(ctx context.Context, v Visitor) error
	// Delivery journals count parcels left at the drop point.
	Delivery(ctx context.Context, count int) error
	// SetMode makes the next scan a guard's pass for kind (ModeSignIn,
	// ModeSignOut, ModeDisinfect with area); kind "" cancels.
	SetMode(ctx context.Context, kind, area string) error
	// Refresh puts the current post, devices and lists on the screen.
	Refresh(ctx context.Context)
}

// ErrNotRecorded is what a Gate returns when the journal refused the
// entry: the guard is told it is NOT recorded.
var ErrNotRecorded = errors.New("entry not recorded")

// Visitor is a visitor's checked answers to the three questions.
type Visitor struct {
	Name, Phone string
	From        string // a region of Compound.Regions
	Visiting    string // building-room, e.g. 3-502
	Purpose     string // in Chinese, as the hub's operators read it
	Returnee    bool
	Returned    string // 2006-01-02 when Returnee
}

// Compound is what the forms offer to tap.
type Compound struct {
	Buildings     []string `json:"buildings"`
	Floors        int      `json:"floors"`
	UnitsPerFloor int      `json:"units_per_floor"`
	Regions       []Region `json:"regions"`
	Areas         []string `json:"areas"` // disinfection area codes; names in the catalogues (area_<code>)
	Purposes      []string `json:"purposes"`
	Parcels       []int    `json:"parcels"` // one button per count
}

// Region is an origin a visitor may tap; Key marks a key epidemic region.
type Region struct {
	Name string `json:"name"`
	Key  bool   `json:"key"`
}

// Purposes are the visitor's reasons, as catalogue keys purpose_<code>.
var Purposes = []string{"family", "care", "goods", "repair", "medical", "official", "other"}

// maxForm bounds a form's body: the largest honest one is well under 1 KiB.
const maxForm = 16 << 10

// returnWindow is how far back a returnee's date of return may be.
const returnWindow = 60 * 24 * time.Hour

// Serve adds the forms to the page, backed by g and offering c.
func (s *Server) Serve(g Gate, c Compound) {
	if c.Purposes == nil {
		c.Purposes = Purposes
	}
	if c.Parcels == nil {
		c.Parcels = []int{1, 2, 3, 5}
	}
	s.gate, s.compound = g, c
	s.handle("GET /api/compound", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, http.StatusOK, s.compound) }))
	s.handle("POST /api/visitor", http.HandlerFunc(s.visitor))
	s.handle("POST /api/delivery", http.HandlerFunc(s.delivery))
	s.handle("POST /api/mode", http.HandlerFunc(s.mode))
}

// formError is a refusal the guard can act on: Key names the catalogue
// sentence, Field the answer to fix.
type formError struct {
	Status  int    `json:"-"`
	Key     string `json:"error"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"` // the sentence in both languages, for logs and scripts
}

func (e *formError) Error() string { return e.Key }

func refuse(field, key string) *formError {
	return &formError{Status: http.StatusBadRequest, Key: key, Field: field}
}

// decode reads a small JSON body strictly into v.
func decode(r *http.Request, v any) *formError {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return refuse("", "err_request")
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, maxForm))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return refuse("", "err_request")
	}
	return nil
}

// reply sends ok, or the refusal with its sentence, or the gate's error as
// the guard must hear it.
func (s *Server) reply(w http.ResponseWriter, r *http.Request, err error) {
	var fe *formError
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
		return
	case errors.As(err, &fe):
	case errors.Is(err, ErrNotRecorded):
		fe = &formError{Status: http.StatusServiceUnavailable, Key: "err_not_recorded"}
	default:
		s.log.Error("screen form", "path", r.URL.Path, "err", err)
		fe = &formError{Status: http.StatusInternalServerError, Key: "err_internal"}
	}
	fe.Message = Message(fe.Key)
	writeJSON(w, fe.Status, fe)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// visitorForm is the page's visitor form as posted.
type visitorForm struct {
	From     string `json:"from"`
	Building string `json:"building"`
	Room     string `json:"room"`
	Purpose  string `json:"purpose"`
	Returnee bool   `json:"returnee"`
	Returned string `json:"returned"`
	Name     string `json:"name"`
	Phone    string `json:"phone"`
}

func (s *Server) visitor(w http.ResponseWriter, r *http.Request) {
	var f visitorForm
	if fe := decode(r, &f); fe != nil {
		s.reply(w, r, fe)
		return
	}
	v, fe := s.checkVisitor(f)
	if fe != nil {
		s.reply(w, r, fe)
		return
	}
	s.reply(w, r, s.gate.Visitor(r.Context(), v))
}

// checkVisitor validates every answer against what the page offers, in the
// order the page asks them.
func (s *Server) checkVisitor(f visitorForm) (Visitor, *formError) {
	c := s.compound
	v := Visitor{Returnee: f.Returnee}
	if !slices.ContainsFunc(c.Regions, func(r Region) bool { return r.Name == f.From }) {
		return v, refuse("from", "err_from")
	}
	v.From = f.From
	if !slices.Contains(c.Buildings, f.Building) {
		return v, refuse("building", "err_building")
	}
	room, err := strconv.Atoi(f.Room)
	if err != nil || len(f.Room) > 4 || room/100 < 1 || room/100 > c.Floors || room%100 < 1 || room%100 > c.UnitsPerFloor {
		return v, refuse("room", "err_room")
	}
	v.Visiting = f.Building + "-" + strconv.Itoa(room)
	if !slices.Contains(c.Purposes, f.Purpose) {
		return v, refuse("purpose", "err_purpose")
	}
	v.Purpose = words.MessageIn("zh-CN", "purpose_"+f.Purpose)
	if f.Returnee {
		day, err := time.ParseInLocation("2006-01-02", f.Returned, time.Local)
		now := s.clock.Now()
		if err != nil || day.After(now) || now.Sub(day) > returnWindow {
			return v, refuse("returned", "err_returned")
		}
		v.Returned = f.Returned
	}
	name := strings.TrimSpace(f.Name)
	if n := utf8.RuneCountInString(name); n < 1 || n > 32 || !printable(name) {
		return v, refuse("name", "err_name")
	}
	v.Name = name
	phone, ok := cleanPhone(f.Phone)
	if !ok {
		return v, refuse("phone", "err_phone")
	}
	v.Phone = phone
	return v, nil
}

// cleanPhone keeps the digits of a phone number typed with spaces or
// dashes: 7 to 15 digits, an optional leading +.
func cleanPhone(s string) (string, bool) {
	var b strings.Builder
	for i, r := range strings.TrimSpace(s) {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-':
		case r == '+' && i == 0:
			b.WriteRune(r)
		default:
			return "", false
		}
	}
	out := b.String()
	digits := len(strings.TrimPrefix(out, "+"))
	return out, digits >= 7 && digits <= 15
}

func printable(s string) bool {
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return utf8.ValidString(s)
}

func (s *Server) delivery(w http.ResponseWriter, r *http.Request) {
	var f struct {
		Count int `json:"count"`
	}
	if fe := decode(r, &f); fe != nil {
		s.reply(w, r, fe)
		return
	}
	if f.Count < 1 || f.Count > 99 {
		s.reply(w, r, refuse("count", "err_count"))
		return
	}
	s.reply(w, r, s.gate.Delivery(r.Context(), f.Count))
}

func (s *Server) mode(w http.ResponseWriter, r *http.Request) {
	var f struct {
		Kind string `json:"kind"`
		Area string `json:"area"`
	}
	if fe := decode(r, &f); fe != nil {
		s.reply(w, r, fe)
		return
	}
	switch f.Kind {
	case "", ModeSignIn, ModeSignOut:
		f.Area = ""
	case ModeDisinfect:
		if !slices.Contains(s.compound.Areas, f.Area) {
			s.reply(w, r, refuse("area", "err_area"))
			return
		}
	default:
		s.reply(w, r, refuse("kind", "err_request"))
		return
	}
	s.reply(w, r, s.gate.SetMode(r.Context(), f.Kind, f.Area))
}

// seen acknowledges the alert with the given seq: its sound stops on every
// page. Acknowledging is per kiosk, not per page, so a reload does not
// silence an alert nobody saw.
func (s *Server) seen(w http.ResponseWriter, r *http.Request) {
	var f struct {
		Seq uint64 `json:"seq"`
	}
	if fe := decode(r, &f); fe != nil {
		s.reply(w, r, fe)
		return
	}
	s.Update(func(st *State) {
		if f.Seq > st.Seen {
			st.Seen = f.Seq
		}
	})
	s.log.Info("alert seen by a guard", "seq", f.Seq)
	s.reply(w, r, nil)
}

// Message is how a refusal reads in both languages, Chinese first.
func Message(key string) string {
	return fmt.Sprintf("%s %s", words.MessageIn("zh-CN", key), words.MessageIn("en", key))
}
