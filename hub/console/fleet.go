package console

import (
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/skip2/go-qrcode"

	"github.com/gatepost/gatepost/hub/enroll"
	"github.com/gatepost/gatepost/hub/pki"
	"github.com/gatepost/gatepost/hub/records"
	"github.com/gatepost/gatepost/hub/registry"
	"github.com/gatepost/gatepost/protocol"
)

// kiosk is a kiosk with the ranges the hub lacks from it.
type kiosk = records.FleetKiosk

// maxGapsShown bounds the gaps listed per kiosk on the fleet page; the
// API has them all.
const maxGapsShown = 10

// gapsText renders ranges as "2, 5–9" ("none" for none).
func gapsText(gaps []records.Range) string {
	if len(gaps) == 0 {
		return "none"
	}
	var parts []string
	for i, g := range gaps {
		if i == maxGapsShown {
			parts = append(parts, fmt.Sprintf("… %d more", len(gaps)-i))
			break
		}
		if g.From == g.To {
			parts = append(parts, fmt.Sprint(g.From))
		} else {
			parts = append(parts, fmt.Sprintf("%d–%d", g.From, g.To))
		}
	}
	return strings.Join(parts, ", ")
}

// fleetRow is one kiosk on the fleet page: what the hub heard from it
// and where it stands in the kiosk register; either may be missing.
type fleetRow struct {
	Site, Kiosk string
	Heard       *kiosk          // nil: it never sent anything
	Reg         *registry.Kiosk // nil: not in the register (a kiosk from before enrollment)
	// InTransition: its site is in transition mode now, so its batches
	// are taken although it is not enrolled.
	InTransition bool
}

type fleetData struct {
	Rows        []fleetRow
	Now         time.Time
	Register    bool // the console reads the kiosk register
	Transitions []registry.Transition
	Shown       *shownCode // a code made just now: on this response only
	Form        enrollForm
	Verify      *verifyLine // the last scheduled chain walk; nil: not shown
}

// verifyLine is the hub's last scheduled walk of the stored chains.
type verifyLine struct {
	At       time.Time // zero: not walked yet since the start
	Findings int
	Failed   bool
}

// shownCode is an enrollment code as the console shows it once.
type shownCode struct {
	Site, Kiosk string
	Code        string
	Expires     time.Time
	QR          template.HTML // an inline SVG: the console's CSP allows no data: images
}

type enrollForm struct {
	Site, Kiosk, TTL string
	Field            string // the field a refused form got wrong
}

// DefaultCodeTTL is how long a code made on the console works unless the
// admin says otherwise; the CLI's default too.
const DefaultCodeTTL = 24 * time.Hour

func (o *Console) fleetView(r *http.Request, v view, d fleetData) (view, error) {
	fleet, err := o.rec.Fleet(r.Context())
	if err != nil {
		return v, err
	}
	d.Now, d.Register = o.clock.Now(), o.cfg.Kiosks != nil
	byKiosk := map[string]*fleetRow{}
	for i := range fleet {
		k := &fleet[i]
		byKiosk[k.Kiosk.Kiosk] = &fleetRow{Site: k.Site, Kiosk: k.Kiosk.Kiosk, Heard: k}
	}
	if d.Register {
		reg, err := o.cfg.Kiosks.List(r.Context())
		if err != nil {
			return v, err
		}
		for i := range reg {
			k := &reg[i]
			row := byKiosk[k.Kiosk]
			if row == nil {
				row = &fleetRow{Site: k.Site, Kiosk: k.Kiosk}
				byKiosk[k.Kiosk] = row
			}
			row.Reg = k
		}
		if d.Transitions, err = o.cfg.Kiosks.Transitions(r.Context()); err != nil {
			return v, err
		}
		for _, t := range d.Transitions {
			for _, row := range byKiosk {
				row.InTransition = row.InTransition || (t.Active && row.Site == t.Site)
			}
		}
	}
	sc := scopeFrom(r.Context())
	if o.cfg.Verified != nil && sc.all() {
		at, n, err := o.cfg.Verified()
		d.Verify = &verifyLine{At: at, Findings: n, Failed: err != nil}
	}
	d.Transitions = slices.DeleteFunc(d.Transitions, func(t registry.Transition) bool { return !sc.site(t.Site) })
	for _, row := range byKiosk {
		if sc.site(row.Site) {
			d.Rows = append(d.Rows, *row)
		}
	}
	slices.SortFunc(d.Rows, func(a, b fleetRow) int {
		return strings.Compare(a.Site+"\x00"+a.Kiosk, b.Site+"\x00"+b.Kiosk)
	})
	if d.Form.TTL == "" {
		d.Form.TTL = strconv.Itoa(int(DefaultCodeTTL.Hours()))
	}
	v.Data = d
	return v, nil
}

func (o *Console) renderFleet(w http.ResponseWriter, r *http.Request, status int, v view, d fleetData) {
	v, err := o.fleetView(r, v, d)
	if err != nil {
		o.fail(w, "read the fleet", err)
		return
	}
	o.render(w, r, status, "fleet", v)
}

func (o *Console) serveFleet(w http.ResponseWriter, r *http.Request) {
	v := view{}
	if k := r.URL.Query().Get("retired"); k != "" {
		v.Notice = o.msg(r, "fleet.retired_done", k)
	}
	o.renderFleet(w, r, http.StatusOK, v, fleetData{})
}

// enrollKiosk makes a one-time code with the CLI's own function and shows
// it once, as text and QR.
func (o *Console) enrollKiosk(w http.ResponseWriter, r *http.Request) {
	sess, _ := sessionFrom(r.Context())
	form := enrollForm{Site: strings.TrimSpace(r.PostFormValue("site")), Kiosk: strings.TrimSpace(r.PostFormValue("kiosk")),
		TTL: strings.TrimSpace(r.PostFormValue("ttl_hours"))}
	refuse := func(status int, field, key string, args ...any) {
		form.Field = field
		o.renderFleet(w, r, status, view{Error: o.msg(r, key, args...)}, fleetData{Form: form})
	}
	if o.cfg.Kiosks == nil {
		refuse(http.StatusServiceUnavailable, "", "fleet.err.no_register")
		return
	}
	hours, err := strconv.Atoi(form.TTL)
	if form.TTL == "" {
		hours, err = int(DefaultCodeTTL.Hours()), nil
	}
	if err != nil || hours < 1 || hours > 720 {
		refuse(http.StatusBadRequest, "ttl_hours", "fleet.err.ttl", form.TTL)
		return
	}
	switch {
	case !protocol.ValidName(form.Site):
		refuse(http.StatusBadRequest, "site", "fleet.err.name", form.Site)
		return
	case !protocol.ValidName(form.Kiosk):
		refuse(http.StatusBadRequest, "kiosk", "fleet.err.name", form.Kiosk)
		return
	}
	var files *pki.Files
	if o.cfg.TLS != nil {
		files, err = o.cfg.TLS()
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			o.log.Error("console: read the hub's TLS files", "err", err)
			o.renderFleet(w, r, http.StatusInternalServerError, view{Error: o.msg(r, "fleet.err.code") + err.Error()}, fleetData{Form: form})
			return
		}
		if err != nil {
			files = nil
		}
	}
	code, expires, err := enroll.NewCode(r.Context(), o.cfg.Kiosks, files, o.cfg.EnrollAddr, form.Site, form.Kiosk, time.Duration(hours)*time.Hour)
	switch {
	case errors.Is(err, enroll.ErrNoTLS):
		refuse(http.StatusServiceUnavailable, "", "fleet.err.no_tls")
		return
	case errors.Is(err, registry.ErrRetired):
		refuse(http.StatusBadRequest, "kiosk", "fleet.err.retired", form.Kiosk)
		return
	case errors.Is(err, registry.ErrTaken):
		refuse(http.StatusBadRequest, "site", "fleet.err.taken", form.Kiosk, form.Site)
		return
	case err != nil:
		o.log.Error("console: make an enrollment code", "site", form.Site, "kiosk", form.Kiosk, "err", err)
		form.Field = ""
		o.renderFleet(w, r, http.StatusInternalServerError, view{Error: o.msg(r, "fleet.err.code") + err.Error()}, fleetData{Form: form})
		return
	}
	qr, err := qrSVG(code.String())
	if err != nil {
		o.fail(w, "draw the QR code", err)
		return
	}
	o.audit(r, sess.User.Name, "kiosk_code", fmt.Sprintf("%s/%s expires %s", form.Site, form.Kiosk, expires.UTC().Format(time.RFC3339)))
	o.renderFleet(w, r, http.StatusOK, view{}, fleetData{Shown: &shownCode{Site: form.Site, Kiosk: form.Kiosk,
		Code: code.String(), Expires: expires, QR: qr}})
}

// retireKiosk retires a kiosk with the register's own Retire, as `hub
// kiosks retire` does, once the admin has ticked the confirmation.
func (o *Console) retireKiosk(w http.ResponseWriter, r *http.Request) {
	sess, _ := sessionFrom(r.Context())
	kioskID := r.PostFormValue("kiosk")
	if o.cfg.Kiosks == nil {
		o.renderFleet(w, r, http.StatusServiceUnavailable, view{Error: o.msg(r, "fleet.err.no_register")}, fleetData{})
		return
	}
	if r.PostFormValue("confirm") != "yes" {
		o.renderFleet(w, r, http.StatusBadRequest, view{Error: o.msg(r, "fleet.err.confirm", kioskID)}, fleetData{})
		return
	}
	k, err := o.cfg.Kiosks.Get(r.Context(), kioskID)
	if errors.Is(err, registry.ErrUnknown) {
		o.renderFleet(w, r, http.StatusBadRequest, view{Error: o.msg(r, "fleet.err.unknown", kioskID)}, fleetData{})
		return
	}
	if err == nil {
		err = o.cfg.Kiosks.Retire(r.Context(), kioskID)
	}
	if err != nil {
		o.fail(w, "retire the kiosk", err)
		return
	}
	o.audit(r, sess.User.Name, "kiosk_retire", k.Site+"/"+kioskID)
	http.Redirect(w, r, "/ops/fleet?retired="+url.QueryEscape(kioskID), http.StatusSeeOther)
}

// qrSVG draws text as a QR code in an inline SVG, one path of dark
// modules.
func qrSVG(text string) (template.HTML, error) {
	q, err := qrcode.New(text, qrcode.Medium)
	if err != nil {
		return "", err
	}
	bits := q.Bitmap() // with its quiet zone
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="qr" id="enroll-qr" viewBox="0 0 %d %d" width="%d" height="%d" shape-rendering="crispEdges" role="img" aria-label="QR"><rect width="100%%" height="100%%" fill="#fff"/><path fill="#000" d="`,
		len(bits), len(bits), len(bits)*6, len(bits)*6)
	for y, row := range bits {
		for x, dark := range row {
			if dark {
				fmt.Fprintf(&b, "M%d %dh1v1h-1z", x, y)
			}
		}
	}
	b.WriteString(`"/></svg>`)
	return template.HTML(b.String()), nil // built here from numbers alone
}
