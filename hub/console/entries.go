package console

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gatepost/gatepost/hub/passes"
	"github.com/gatepost/gatepost/hub/records"
	"github.com/gatepost/gatepost/protocol"
)

// entriesPage is how many rows a page of the entries table shows.
const entriesPage = 50

// maxPageNumber bounds ?page: deep offsets are slow, and a filter finds
// what paging that far would.
const maxPageNumber = 2000

// The filters' choices, in the order the form offers them.
var (
	kinds = []string{string(protocol.KindCheck), string(protocol.KindVisitor), string(protocol.KindDelivery),
		string(protocol.KindShiftIn), string(protocol.KindShiftOut), string(protocol.KindDisinfection)}
	decisions = []string{string(protocol.DecisionAllow), string(protocol.DecisionDeny), string(protocol.DecisionAlert),
		string(protocol.DecisionRemeasure), string(protocol.DecisionRecord)}
)

// parseFilter reads the table's filters from the query. Every bad value
// gets a sentence naming the field.
func (o *Console) parseFilter(q url.Values) (records.Filter, int, error) {
	f := records.Filter{
		Site: strings.TrimSpace(q.Get("site")), Kiosk: strings.TrimSpace(q.Get("kiosk")),
		Unit: strings.TrimSpace(q.Get("unit")), Fever: q.Get("fever") == "1",
	}
	for _, s := range []struct{ name, v string }{{"site", f.Site}, {"kiosk", f.Kiosk}, {"unit", f.Unit}} {
		if len(s.v) > 64 {
			return f, 0, fmt.Errorf("%s is longer than 64 characters", s.name)
		}
	}
	if f.Validate() != nil {
		return f, 0, fmt.Errorf("unit: 单元号请与小区一起查（各小区的单元号会重复）/ choose the compound too: unit numbers repeat across compounds")
	}
	if k := q.Get("kind"); k != "" {
		if !contains(kinds, k) {
			return f, 0, fmt.Errorf("kind must be one of %s, got %q", strings.Join(kinds, ", "), k)
		}
		f.Kind = k
	}
	if d := q.Get("decision"); d != "" {
		if !contains(decisions, d) {
			return f, 0, fmt.Errorf("decision must be one of %s, got %q", strings.Join(decisions, ", "), d)
		}
		f.Decision = d
	}
	var err error
	if f.From, err = o.parseTime("from", q.Get("from")); err != nil {
		return f, 0, err
	}
	if f.To, err = o.parseTime("to", q.Get("to")); err != nil {
		return f, 0, err
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.To.After(f.From) {
		return f, 0, fmt.Errorf("to must be after from")
	}
	page := 0
	if p := q.Get("page"); p != "" {
		page, err = strconv.Atoi(p)
		if err != nil || page < 0 || page > maxPageNumber {
			return f, 0, fmt.Errorf("page must be a number from 0 to %d, got %q", maxPageNumber, p)
		}
	}
	return f, page, nil
}

// parseTime reads a datetime-local ("2026-02-01T08:30") or a date in the
// console's zone.
func (o *Console) parseTime(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", time.DateOnly} {
		if t, err := time.ParseInLocation(layout, s, o.cfg.Zone); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%s must be a time like 2026-02-01T08:30 or a date like 2026-02-01, got %q", field, s)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// row is an entry as the table shows it: personal details masked.
type row struct {
	records.Stored
	Who     string
	Contact string
	Unit    string
	Urgent  bool
}

func masked(e records.Stored) row {
	r := row{Stored: e, Unit: e.Unit, Urgent: e.Urgent()}
	if e.Visitor != nil {
		r.Who, r.Contact = passes.MaskName(e.Visitor.Name), maskPhone(e.Visitor.Contact)
		if r.Unit == "" {
			r.Unit = e.Visitor.Visiting
		}
	} else if e.Pass != "" {
		r.Who = e.Pass
	}
	return r
}

// maskPhone keeps the first three and last four digits of a mobile
// number, as Chinese receipts do ("138****5678"); anything shorter keeps
// only its last two characters.
func maskPhone(s string) string {
	r := []rune(s)
	switch {
	case len(r) == 0:
		return ""
	case len(r) >= 11:
		return string(r[:3]) + strings.Repeat("*", len(r)-7) + string(r[len(r)-4:])
	case len(r) > 2:
		return strings.Repeat("*", len(r)-2) + string(r[len(r)-2:])
	}
	return strings.Repeat("*", len(r))
}

type entriesData struct {
	Rows      []row
	Sites     []string
	Kinds     []string
	Decisions []string
	Page      int
	More      bool
	Prev      string
	Next      string
	Export    string
}

func (o *Console) serveEntries(w http.ResponseWriter, r *http.Request) {
	data := entriesData{Kinds: kinds, Decisions: decisions}
	sites, err := o.rec.Sites(r.Context())
	if err != nil {
		o.fail(w, "list compounds", err)
		return
	}
	sc := scopeFrom(r.Context())
	data.Sites = sc.keep(sites)
	f, page, err := o.parseFilter(r.URL.Query())
	if err != nil {
		o.render(w, r, http.StatusBadRequest, "entries", view{Error: o.msgs[requestLang(r)]["err.bad_input"] + err.Error(), Data: data})
		return
	}
	p, err := o.rec.Search(r.Context(), sc.entries(f), page, entriesPage)
	if err != nil {
		o.fail(w, "search entries", err)
		return
	}
	for _, e := range p.Entries {
		data.Rows = append(data.Rows, masked(e))
	}
	data.Page, data.More = page, p.More
	q := r.URL.Query()
	if page > 0 {
		q.Set("page", strconv.Itoa(page-1))
		data.Prev = "/ops/?" + q.Encode()
	}
	if p.More {
		q.Set("page", strconv.Itoa(page+1))
		data.Next = "/ops/?" + q.Encode()
	}
	q.Del("page")
	data.Export = "/ops/entries.csv?" + q.Encode()
	o.render(w, r, http.StatusOK, "entries", view{Data: data})
}

// exportEntries streams the filtered set as CSV, masked as on screen, and
// records who exported what.
func (o *Console) exportEntries(w http.ResponseWriter, r *http.Request) {
	f, _, err := o.parseFilter(r.URL.Query())
	if err != nil {
		http.Error(w, "Bad input: "+err.Error(), http.StatusBadRequest)
		return
	}
	sess, _ := sessionFrom(r.Context())
	o.store.Audit(r.Context(), sess.User.Name, "export", r.URL.RawQuery)
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="entries.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	cw := csv.NewWriter(w)
	cw.Write([]string{"received", "gate_time", "site", "kiosk", "seq", "kind", "who", "contact", "unit", "temperature_c", "decision", "reasons"})
	err = o.rec.Each(r.Context(), scopeFrom(r.Context()).entries(f), func(e records.Stored) error {
		m := masked(e)
		temp := ""
		if e.Temperature != nil {
			temp = fmt.Sprintf("%.1f", e.Temperature.ScreenedC)
		}
		return cw.Write([]string{
			e.Received.In(o.cfg.Zone).Format(time.RFC3339), e.Time.Format(time.RFC3339), cell(e.Site), cell(e.Kiosk),
			strconv.FormatUint(e.Seq, 10), string(e.Kind), cell(m.Who), cell(m.Contact), cell(m.Unit), temp,
			string(e.Decision), strings.Join(e.Reasons, " "),
		})
	})
	cw.Flush()
	if err != nil {
		// Headers are gone; the log says why the file is short.
		o.log.Error("console: export entries", "err", err)
	}
}

// cell defuses spreadsheet formulas: a cell starting =, +, - or @ is
// prefixed with a quote so a spreadsheet shows it as text.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

type revealData struct {
	Entry records.Stored
}

// reveal shows one entry unmasked to an admin, and audits it.
func (o *Console) reveal(w http.ResponseWriter, r *http.Request) {
	kiosk := r.PostFormValue("kiosk")
	seq, err := strconv.ParseUint(r.PostFormValue("seq"), 10, 63)
	if err != nil || seq == 0 || !protocol.ValidName(kiosk) {
		http.Error(w, "Bad input: kiosk and seq name the entry to reveal.", http.StatusBadRequest)
		return
	}
	list, err := o.rec.Entries(r.Context(), records.Query{Kiosk: kiosk, AfterSeq: seq - 1, Limit: 1})
	if err != nil {
		o.fail(w, "read the entry", err)
		return
	}
	if len(list) == 0 || list[0].Seq != seq {
		http.Error(w, "No such entry.", http.StatusNotFound)
		return
	}
	sess, _ := sessionFrom(r.Context())
	if err := o.store.Audit(r.Context(), sess.User.Name, "reveal", fmt.Sprintf("%s/%d", kiosk, seq)); err != nil {
		o.fail(w, "write the audit log", err) // no audit line, no reveal
		return
	}
	o.render(w, r, http.StatusOK, "reveal", view{Data: revealData{Entry: list[0]}})
}
