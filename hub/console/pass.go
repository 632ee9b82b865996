package console

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/gatepost/gatepost/hub/passes"
	"github.com/gatepost/gatepost/protocol"
)

// One pass: its page, QR code and printable sheet, and the admins'
// changes to it (revoke, home observation).

type passData struct {
	Pass  passes.Pass
	State passes.State
	Until string // the observation form's day, as typed
}

// getPass reads the pass the path names, answering 404 itself.
func (o *Console) getPass(w http.ResponseWriter, r *http.Request) (PassManager, passes.Pass, bool) {
	pm, ok := o.passStore(w, r)
	if !ok {
		return nil, passes.Pass{}, false
	}
	p, err := pm.Get(r.Context(), r.PathValue("id"))
	if err == nil && !scopeFrom(r.Context()).unit(p.Site, p.Unit) {
		err = passes.ErrNotFound // another building's pass is not there for a building lead
	}
	if errors.Is(err, passes.ErrNotFound) {
		http.Error(w, "No such pass.", http.StatusNotFound)
		return nil, p, false
	}
	if err != nil {
		o.fail(w, "read the pass", err)
		return nil, p, false
	}
	return pm, p, true
}

func (o *Console) passView(p passes.Pass, v view) view {
	d, _ := v.Data.(passData)
	d.Pass, d.State = p, p.State(o.clock.Now())
	v.Data = d
	return v
}

func (o *Console) servePass(w http.ResponseWriter, r *http.Request) {
	_, p, ok := o.getPass(w, r)
	if !ok {
		return
	}
	v := view{}
	if done := r.URL.Query().Get("done"); slices.Contains([]string{"issued", "revoked", "observation", "cleared"}, done) {
		v.Notice = o.msgs[requestLang(r)]["pass.done."+done]
	}
	o.render(w, r, http.StatusOK, "pass", o.passView(p, v))
}

// servePassQR is the pass's QR code as a PNG, as it prints. The image is
// the pass: an API token (which only reads) never gets it, and every
// download is audited with the user and the pass, before it is sent.
func (o *Console) servePassQR(w http.ResponseWriter, r *http.Request) {
	if !o.refuseToken(w, r) {
		return
	}
	_, p, ok := o.getPass(w, r)
	if !ok {
		return
	}
	img, err := passes.PNG(p.Token)
	if err != nil {
		o.fail(w, "draw the QR code", err)
		return
	}
	sess, _ := sessionFrom(r.Context())
	if err := o.store.Audit(r.Context(), sess.User.Name, "pass_qr", p.ID+" "+p.Site+" unit "+p.Unit); err != nil {
		o.fail(w, "write the audit log", err) // no audit line, no pass
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(img)
}

// servePassSheet is the printable A4 sheet of cards (?id=...&id=...), the
// same HTML as hub passes print writes.
func (o *Console) servePassSheet(w http.ResponseWriter, r *http.Request) {
	if !o.refuseToken(w, r) {
		return
	}
	pm, ok := o.passStore(w, r)
	if !ok {
		return
	}
	ids := r.URL.Query()["id"]
	if len(ids) == 0 || len(ids) > maxSheet {
		http.Error(w, fmt.Sprintf("Bad input: id names the passes to print, 1 to %d of them.", maxSheet), http.StatusBadRequest)
		return
	}
	list, err := pm.List(r.Context(), passes.Filter{IDs: ids})
	if errors.Is(err, passes.ErrNotFound) {
		http.Error(w, "No such pass.", http.StatusNotFound)
		return
	}
	if err != nil {
		o.fail(w, "read the passes", err)
		return
	}
	var buf bytes.Buffer
	if err := passes.WriteSheet(&buf, list, o.cfg.Zone); err != nil {
		o.fail(w, "draw the sheet", err)
		return
	}
	sess, _ := sessionFrom(r.Context())
	printed := make([]string, len(list))
	for i, p := range list {
		printed[i] = p.ID
	}
	if err := o.store.Audit(r.Context(), sess.User.Name, "pass_print", strings.Join(printed, " ")); err != nil {
		o.fail(w, "write the audit log", err) // no audit line, no sheet
		return
	}
	// The sheet carries its style and its codes inline (it prints the same
	// from a file); it runs no script at all.
	w.Header().Set("Content-Security-Policy", "default-src 'none'; img-src data:; style-src 'unsafe-inline'; frame-ancestors 'none'")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(buf.Bytes())
}

// refusePassChange shows the pass again with why the change was refused.
func (o *Console) refusePassChange(w http.ResponseWriter, r *http.Request, p passes.Pass, status int, err error, d passData) {
	text := err.Error()
	if status == http.StatusBadRequest {
		text = o.msgs[requestLang(r)]["err.bad_input"] + text
	}
	o.render(w, r, status, "pass", o.passView(p, view{Error: text, Data: d}))
}

// revokePass revokes a pass for good, with the reason the guard will see.
func (o *Console) revokePass(w http.ResponseWriter, r *http.Request) {
	pm, p, ok := o.getPass(w, r)
	if !ok {
		return
	}
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	if p.Status == protocol.StatusRevoked {
		o.refusePassChange(w, r, p, http.StatusConflict, errors.New(o.msgs[requestLang(r)]["pass.revoked_note"]), passData{})
		return
	}
	err := passes.CheckReason(reason, true)
	if err == nil {
		err = pm.Revoke(r.Context(), p.ID, reason)
	}
	if errors.Is(err, passes.ErrBadRequest) {
		o.refusePassChange(w, r, p, http.StatusBadRequest, err, passData{})
		return
	}
	if err != nil {
		o.fail(w, "revoke the pass", err)
		return
	}
	sess, _ := sessionFrom(r.Context())
	o.audit(r, sess.User.Name, "pass_revoke", fmt.Sprintf("%s %s unit %s: %s", p.ID, p.Site, p.Unit, reason))
	o.passesChanged()
	http.Redirect(w, r, "/ops/passes/"+p.ID+"?done=revoked", http.StatusSeeOther)
}

// markObservation sets (action=set, until, reason) or ends (action=clear)
// home observation. A revoked pass is refused: revocation is for good.
func (o *Console) markObservation(w http.ResponseWriter, r *http.Request) {
	pm, p, ok := o.getPass(w, r)
	if !ok {
		return
	}
	msgs := o.msgs[requestLang(r)]
	d := passData{Until: r.PostFormValue("until")}
	if p.Status == protocol.StatusRevoked {
		o.refusePassChange(w, r, p, http.StatusConflict, errors.New(msgs["pass.revoked_note"]), d)
		return
	}
	sess, _ := sessionFrom(r.Context())
	switch r.PostFormValue("action") {
	case "set":
		reason := strings.TrimSpace(r.PostFormValue("reason"))
		until, err := passes.ObservationEnd(d.Until, o.clock.Now(), o.cfg.Zone)
		if err == nil {
			err = passes.CheckReason(reason, false)
		}
		if err == nil {
			err = pm.HomeObservation(r.Context(), p.ID, until, reason)
		}
		if errors.Is(err, passes.ErrBadRequest) {
			o.refusePassChange(w, r, p, http.StatusBadRequest, err, d)
			return
		}
		if err != nil {
			o.fail(w, "mark home observation", err)
			return
		}
		o.audit(r, sess.User.Name, "pass_home_observation",
			fmt.Sprintf("%s %s unit %s through %s: %s", p.ID, p.Site, p.Unit, strings.TrimSpace(d.Until), reason))
		o.passesChanged()
		http.Redirect(w, r, "/ops/passes/"+p.ID+"?done=observation", http.StatusSeeOther)
	case "clear":
		if p.State(o.clock.Now()) != passes.StateHomeObservation {
			o.refusePassChange(w, r, p, http.StatusConflict, errors.New(msgs["pass.not_observed"]), d)
			return
		}
		if err := pm.ClearStatus(r.Context(), p.ID); err != nil {
			o.fail(w, "end home observation", err)
			return
		}
		o.audit(r, sess.User.Name, "pass_clear", fmt.Sprintf("%s %s unit %s: home observation ended", p.ID, p.Site, p.Unit))
		o.passesChanged()
		http.Redirect(w, r, "/ops/passes/"+p.ID+"?done=cleared", http.StatusSeeOther)
	default:
		o.refusePassChange(w, r, p, http.StatusBadRequest, errors.New("action must be set or clear"), d)
	}
}

// refuseToken answers 403 to a request made with an API token: tokens
// read lists and figures, never a pass's QR code, which opens the gate.
// It reports whether the request may go on.
func (o *Console) refuseToken(w http.ResponseWriter, r *http.Request) bool {
	sess, _ := sessionFrom(r.Context())
	if sess.Token == "" {
		return true
	}
	o.log.Warn("console: refused a pass's QR code to an API token", "token", sess.Token, "path", r.URL.Path)
	o.audit(r, sess.User.Name, "pass_qr_refused", r.URL.Path)
	http.Error(w, "API tokens cannot download a pass's QR code: the image is the pass. Sign in to the console to print it.", http.StatusForbidden)
	return false
}
