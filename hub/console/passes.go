package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gatepost/gatepost/hub/passes"
	"github.com/gatepost/gatepost/protocol"
)

// PassManager is what the admins' pass pages need of the pass store.
type PassManager interface {
	PassLister
	Search(ctx context.Context, q passes.Query, page, size int) (passes.Page, error)
	Get(ctx context.Context, id string) (passes.Pass, error)
	Sites(ctx context.Context) ([]string, error)
	HasKey(ctx context.Context) (bool, error)
	Issue(ctx context.Context, req passes.Request) (passes.Pass, error)
	IssueRows(ctx context.Context, rows []passes.Row) ([]passes.Pass, error)
	Revoke(ctx context.Context, id, reason string) error
	HomeObservation(ctx context.Context, id string, until time.Time, reason string) error
	ClearStatus(ctx context.Context, id string) error
}

var _ PassManager = (*passes.Store)(nil)

const (
	passesPage  = 50       // rows a page of the pass list shows
	maxPassForm = 16 << 10 // a form's body
	maxPassCSV  = 2 << 20  // an uploaded CSV: some 40,000 households
	maxSheet    = 600      // passes on one printable sheet (50 A4 pages)
)

// passPages are the pass pages' templates, parsed with the others.
var passPages = []string{"passes", "pass_new", "pass", "passes_issued"}

// passRoutes adds the pass pages. They are for admins, reading too: a
// pass's QR code is the pass, and whoever sees it can print a copy that
// opens the gate. A building lead lists and opens its own buildings'
// passes and sets or ends their home observation, nothing more.
func (o *Console) passRoutes() {
	o.handle("GET /ops/passes", passKeepers, 0, o.servePasses)
	o.handle("GET /ops/passes/new", adminsOnly, 0, o.serveIssueForm)
	o.handle("POST /ops/passes", adminsOnly, maxPassForm, o.issuePass)
	o.handle("POST /ops/passes/csv", adminsOnly, maxPassCSV, o.issuePassesCSV)
	o.handle("GET /ops/passes/sheet", adminsOnly, 0, o.servePassSheet)
	o.handle("GET /ops/passes/{id}", passKeepers, 0, o.servePass)
	o.handle("GET /ops/passes/{id}/qr.png", adminsOnly, 0, o.servePassQR)
	o.handle("POST /ops/passes/{id}/revoke", adminsOnly, maxPassForm, o.revokePass)
	o.handle("POST /ops/passes/{id}/observation", passKeepers, maxPassForm, o.markObservation)
}

// limitBody refuses a body over limit bytes (0: no limit) before anything
// reads it, with a sentence rather than a form "without its CSRF token".
func limitBody(limit int64, h http.Handler) http.Handler {
	if limit <= 0 {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > limit {
			http.Error(w, fmt.Sprintf("The form is too large: at most %d KiB.", limit>>10), http.StatusRequestEntityTooLarge)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		h.ServeHTTP(w, r)
	})
}

// LastDay is the last day a time that ends something (exclusive: a pass
// valid until 2026-07-01 00:00) still covers, in the console's zone.
func (v view) LastDay(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(v.zone).Add(-time.Second).Format(time.DateOnly)
}

// EndDay is LastDay of an optional end (home observation's).
func (v view) EndDay(t *time.Time) string {
	if t == nil {
		return ""
	}
	return v.LastDay(*t)
}

// Day is t's day in the console's zone.
func (v view) Day(t time.Time) string { return t.In(v.zone).Format(time.DateOnly) }

type passRow struct {
	passes.Pass
	State passes.State
}

type passesData struct {
	Sites  []string
	States []passes.State
	Rows   []passRow
	Page   int
	Prev   string
	Next   string
}

// servePasses lists passes by compound, unit and state, a page at a time.
func (o *Console) servePasses(w http.ResponseWriter, r *http.Request) {
	pm, ok := o.passStore(w, r)
	if !ok {
		return
	}
	data := passesData{States: passes.States}
	sites, err := o.knownSites(r.Context())
	if err != nil {
		o.fail(w, "list compounds", err)
		return
	}
	sc := scopeFrom(r.Context())
	data.Sites = sc.keep(sites)
	q := r.URL.Query()
	query := passes.Query{Site: strings.TrimSpace(q.Get("site")), Unit: strings.TrimSpace(q.Get("unit")),
		State: passes.State(q.Get("state")), Now: o.clock.Now()}
	page := 0
	var bad error
	switch {
	case query.Site != "" && !protocol.ValidName(query.Site):
		bad = fmt.Errorf("site must be a compound's id (letters, digits, '-' or '_'), got %q", query.Site)
	case len(query.Unit) > protocol.MaxPassUnit:
		bad = fmt.Errorf("unit is longer than %d bytes", protocol.MaxPassUnit)
	case query.State != "" && !slices.Contains(passes.States, query.State):
		bad = fmt.Errorf("state must be one of valid, home_observation, revoked, expired, got %q", query.State)
	}
	if p := q.Get("page"); p != "" && bad == nil {
		if page, err = strconv.Atoi(p); err != nil || page < 0 || page > maxPageNumber {
			bad = fmt.Errorf("page must be a number from 0 to %d, got %q", maxPageNumber, p)
		}
	}
	if bad != nil {
		o.render(w, r, http.StatusBadRequest, "passes", view{Error: o.msgs[requestLang(r)]["err.bad_input"] + bad.Error(), Data: data})
		return
	}
	if sc.user.Lead {
		o.serveLeadPasses(w, r, pm, query, data)
		return
	}
	res, err := pm.Search(r.Context(), query, page, passesPage)
	if err != nil {
		o.fail(w, "list passes", err)
		return
	}
	for _, p := range res.Passes {
		data.Rows = append(data.Rows, passRow{Pass: p, State: p.State(query.Now)})
	}
	data.Page = page
	if page > 0 {
		q.Set("page", strconv.Itoa(page-1))
		data.Prev = "/ops/passes?" + q.Encode()
	}
	if res.More {
		q.Set("page", strconv.Itoa(page+1))
		data.Next = "/ops/passes?" + q.Encode()
	}
	o.render(w, r, http.StatusOK, "passes", view{Data: data})
}

// passStore returns the pass store, or says plainly that this hub has none.
func (o *Console) passStore(w http.ResponseWriter, r *http.Request) (PassManager, bool) {
	if o.cfg.ManagePasses == nil {
		o.render(w, r, http.StatusNotFound, "passes", view{Error: o.msgs[requestLang(r)]["pass.nostore"], Data: passesData{}})
		return nil, false
	}
	return o.cfg.ManagePasses, true
}

// knownSites are the compounds the hub knows: those with entries, kiosks
// or passes. A pass for any other is refused, so a typo cannot start a
// compound nobody will ever scan at.
func (o *Console) knownSites(ctx context.Context) ([]string, error) {
	sites, err := o.rec.Sites(ctx)
	if err != nil {
		return nil, err
	}
	kiosks, err := o.rec.Kiosks(ctx)
	if err != nil {
		return nil, err
	}
	for _, k := range kiosks {
		sites = append(sites, k.Site)
	}
	if o.cfg.ManagePasses != nil {
		ps, err := o.cfg.ManagePasses.Sites(ctx)
		if err != nil {
			return nil, err
		}
		sites = append(sites, ps...)
	}
	slices.Sort(sites)
	return slices.DeleteFunc(slices.Compact(sites), func(s string) bool { return s == "" }), nil
}

type issueData struct {
	Sites  []string
	Kinds  []protocol.PassKind
	NoKey  bool
	Form   passes.IssueForm
	Issued []passes.Pass // after a CSV upload
	Sheet  string        // the printable sheet of Issued
}

// issueView fills the issue page's data: the compounds, and whether there
// is a key to sign with.
func (o *Console) issueView(ctx context.Context, pm PassManager, form passes.IssueForm) (issueData, error) {
	d := issueData{Kinds: passes.Kinds, Form: form}
	var err error
	if d.Sites, err = o.knownSites(ctx); err != nil {
		return d, err
	}
	has, err := pm.HasKey(ctx)
	d.NoKey = !has
	return d, err
}

func (o *Console) serveIssueForm(w http.ResponseWriter, r *http.Request) {
	pm, ok := o.passStore(w, r)
	if !ok {
		return
	}
	d, err := o.issueView(r.Context(), pm, passes.IssueForm{Site: r.URL.Query().Get("site")})
	if err != nil {
		o.fail(w, "read the pass store", err)
		return
	}
	o.render(w, r, http.StatusOK, "pass_new", view{Data: d})
}

// refuseIssue shows the issue form again, as typed, with why it failed.
func (o *Console) refuseIssue(w http.ResponseWriter, r *http.Request, pm PassManager, form passes.IssueForm, err error) {
	msgs := o.msgs[requestLang(r)]
	d, verr := o.issueView(r.Context(), pm, form)
	if verr != nil {
		o.fail(w, "read the pass store", verr)
		return
	}
	status, text := http.StatusBadRequest, msgs["err.bad_input"]+err.Error()
	if errors.Is(err, passes.ErrNoKey) {
		status, text = http.StatusConflict, msgs["pass.nokey"]
	}
	o.render(w, r, status, "pass_new", view{Error: text, Data: d})
}

// checkSite refuses a compound the hub does not know, naming field.
func (o *Console) checkSite(ctx context.Context, field, site string) error {
	sites, err := o.knownSites(ctx)
	if err != nil {
		return err
	}
	if !slices.Contains(sites, site) {
		return &passes.FieldError{Field: field, Msg: fmt.Sprintf("no compound %q is known to the hub (none of its kiosks has "+
			"connected and it has no passes); for a new compound's first pass run hub passes issue --site on the hub", site)}
	}
	return nil
}

func (o *Console) issuePass(w http.ResponseWriter, r *http.Request) {
	pm, ok := o.passStore(w, r)
	if !ok {
		return
	}
	form := passes.IssueForm{Kind: r.PostFormValue("kind"), Site: r.PostFormValue("site"), Unit: r.PostFormValue("unit"),
		Name: r.PostFormValue("name"), From: r.PostFormValue("from"), Until: r.PostFormValue("until")}
	req, err := form.Request(o.clock.Now(), o.cfg.Zone)
	if err == nil {
		err = o.checkSite(r.Context(), "site", req.Site)
	}
	var p passes.Pass
	if err == nil {
		p, err = pm.Issue(r.Context(), req)
	}
	if errors.Is(err, passes.ErrBadRequest) || errors.Is(err, passes.ErrNoKey) {
		o.refuseIssue(w, r, pm, form, err)
		return
	}
	if err != nil {
		o.fail(w, "issue the pass", err)
		return
	}
	sess, _ := sessionFrom(r.Context())
	o.audit(r, sess.User.Name, "pass_issue", issuedDetail(p, o.cfg.Zone))
	o.passesChanged()
	http.Redirect(w, r, "/ops/passes/"+p.ID+"?done=issued", http.StatusSeeOther)
}

func issuedDetail(p passes.Pass, zone *time.Location) string {
	return fmt.Sprintf("%s %s unit %s %s %s..%s key %s", p.ID, p.Site, p.Unit, p.Kind, p.ValidFrom.In(zone).Format(time.DateOnly),
		p.ValidUntil.In(zone).Add(-time.Second).Format(time.DateOnly), p.Key)
}

// issuePassesCSV issues a pass per row of an uploaded CSV, with the
// form's compound, kind and days as defaults. Every row is checked
// before any is issued, and all are issued in one transaction: a bad
// line issues nothing, and the page names it.
func (o *Console) issuePassesCSV(w http.ResponseWriter, r *http.Request) {
	pm, ok := o.passStore(w, r)
	if !ok {
		return
	}
	form := passes.IssueForm{Kind: r.PostFormValue("kind"), Site: r.PostFormValue("site"),
		From: r.PostFormValue("from"), Until: r.PostFormValue("until")}
	def, err := form.Defaults(o.clock.Now(), o.cfg.Zone)
	var rows []passes.Row
	if err == nil {
		file, _, ferr := r.FormFile("csv")
		if ferr != nil {
			err = &passes.FieldError{Field: "csv", Msg: "choose a CSV file to upload"}
		} else {
			rows, err = passes.ParseCSV(file, def, o.cfg.Zone)
			file.Close()
		}
	}
	for _, row := range rows {
		if err != nil {
			break
		}
		if serr := o.checkSite(r.Context(), "site", row.Site); serr != nil {
			err = &passes.LineError{Line: row.Line, Err: serr}
		}
	}
	var list []passes.Pass
	if err == nil {
		list, err = pm.IssueRows(r.Context(), rows)
	}
	if errors.Is(err, passes.ErrBadRequest) || errors.Is(err, passes.ErrNoKey) {
		o.refuseIssue(w, r, pm, form, err)
		return
	}
	if err != nil {
		o.fail(w, "issue the passes", err)
		return
	}
	sess, _ := sessionFrom(r.Context())
	for _, p := range list {
		o.audit(r, sess.User.Name, "pass_issue", issuedDetail(p, o.cfg.Zone)+" (CSV)")
	}
	o.passesChanged()
	d, err := o.issueView(r.Context(), pm, form)
	if err != nil {
		o.fail(w, "read the pass store", err)
		return
	}
	d.Issued = list
	if len(list) <= maxSheet {
		q := url.Values{}
		for _, p := range list {
			q.Add("id", p.ID)
		}
		d.Sheet = "/ops/passes/sheet?" + q.Encode()
	}
	o.render(w, r, http.StatusOK, "passes_issued", view{Notice: fmt.Sprintf(o.msgs[requestLang(r)]["pass.csv.done"], len(list)), Data: d})
}

// passesChanged tells the pass feed, so kiosks hear of it in seconds.
func (o *Console) passesChanged() {
	if o.cfg.PassesChanged != nil {
		o.cfg.PassesChanged()
	}
}

// serveLeadPasses lists a building lead's passes: its compound's, of its
// buildings, filtered as asked, on one page (a few buildings' households).
func (o *Console) serveLeadPasses(w http.ResponseWriter, r *http.Request, pm PassManager, query passes.Query, data passesData) {
	sc := scopeFrom(r.Context())
	list, err := pm.List(r.Context(), passes.Filter{Site: sc.user.Sites[0]})
	if err != nil {
		o.fail(w, "list passes", err)
		return
	}
	for _, p := range list {
		st := p.State(query.Now)
		if !sc.unit(p.Site, p.Unit) || (query.Site != "" && p.Site != query.Site) ||
			(query.Unit != "" && p.Unit != query.Unit) || (query.State != "" && st != query.State) {
			continue
		}
		data.Rows = append(data.Rows, passRow{Pass: p, State: st})
	}
	o.render(w, r, http.StatusOK, "passes", view{Data: data})
}
