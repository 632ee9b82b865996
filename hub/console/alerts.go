package console

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/gatepost/gatepost/hub/operators"
)

type alertsData struct {
	Active []operators.Alert // open and acknowledged
	Closed []operators.Alert
}

func (o *Console) alertsView(r *http.Request, v view) view {
	sites := scopeFrom(r.Context()).sites()
	active, err := o.store.AlertsIn(r.Context(), sites, 200, operators.StateOpen, operators.StateAcked)
	if err != nil {
		o.log.Error("console: list alerts", "err", err)
	}
	closed, err := o.store.AlertsIn(r.Context(), sites, 50, operators.StateClosed)
	if err != nil {
		o.log.Error("console: list alerts", "err", err)
	}
	v.Data = alertsData{Active: active, Closed: closed}
	return v
}

func (o *Console) serveAlerts(w http.ResponseWriter, r *http.Request) {
	v := view{}
	if r.URL.Query().Get("done") == "1" {
		v.Notice = o.msgs[requestLang(r)]["alerts.done"]
	}
	o.render(w, r, http.StatusOK, "alerts", o.alertsView(r, v))
}

// moveAlert acknowledges or closes an alert with the user's note.
func (o *Console) moveAlert(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		o.render(w, r, http.StatusBadRequest, "alerts", o.alertsView(r, view{Error: "Bad input: no such alert."}))
		return
	}
	to := map[string]string{"ack": operators.StateAcked, "close": operators.StateClosed}[r.PostFormValue("action")]
	if to == "" {
		o.render(w, r, http.StatusBadRequest, "alerts", o.alertsView(r, view{Error: "Bad input: action must be ack or close."}))
		return
	}
	sess, _ := sessionFrom(r.Context())
	note := r.PostFormValue("note")
	a, err := o.store.Alert(r.Context(), id)
	if err == nil && !scopeFrom(r.Context()).site(a.Site) {
		err = operators.ErrNoAlert // another compound's alert is not there for this user
	}
	if err == nil {
		err = o.store.Move(r.Context(), id, to, sess.User.Name, note)
	}
	if err != nil {
		status := http.StatusBadRequest
		if errors.Is(err, operators.ErrNoAlert) {
			status = http.StatusConflict
		}
		o.render(w, r, status, "alerts", o.alertsView(r, view{Error: err.Error()}))
		return
	}
	o.store.Audit(r.Context(), sess.User.Name, "alert_"+r.PostFormValue("action"), strconv.FormatInt(id, 10)+": "+note)
	o.live.send(event{Name: "alert", site: a.Site, Data: map[string]any{"id": id, "state": to}})
	http.Redirect(w, r, "/ops/alerts?done=1", http.StatusSeeOther)
}

type auditData struct {
	Lines []operators.AuditRecord
}

func (o *Console) serveAudit(w http.ResponseWriter, r *http.Request) {
	lines, err := o.store.AuditLog(r.Context(), 500)
	if err != nil {
		o.fail(w, "read the audit log", err)
		return
	}
	o.render(w, r, http.StatusOK, "audit", view{Data: auditData{Lines: lines}})
}
