package console

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gatepost/gatepost/hub/operators"
)

type usersData struct {
	Users []operators.User
	// Shown is a password made just now: on this response only, never
	// stored in the clear, never logged.
	Shown *shownPassword
	Name  string // the add form's name after a refused add
	Role  string
	Field string // the field a refused form got wrong
}

type shownPassword struct {
	Name, Password string
	New            bool // a new account, not a reset
}

func (o *Console) renderUsers(w http.ResponseWriter, r *http.Request, status int, v view, d usersData) {
	users, err := o.store.Users(r.Context())
	if err != nil {
		o.fail(w, "list the users", err)
		return
	}
	d.Users = users
	if d.Role == "" {
		d.Role = "operator"
	}
	v.Data = d
	o.render(w, r, status, "users", v)
}

func (o *Console) serveUsers(w http.ResponseWriter, r *http.Request) {
	v := view{}
	if r.URL.Query().Get("done") == "1" {
		v.Notice = o.msg(r, "admin.saved")
	}
	o.renderUsers(w, r, http.StatusOK, v, usersData{})
}

// addUser creates an account with a password the hub makes, and shows it
// once.
func (o *Console) addUser(w http.ResponseWriter, r *http.Request) {
	sess, _ := sessionFrom(r.Context())
	name, role := strings.TrimSpace(r.PostFormValue("name")), r.PostFormValue("role")
	d := usersData{Name: name, Role: role}
	refuse := func(field, key string, args ...any) {
		d.Field = field
		o.renderUsers(w, r, http.StatusBadRequest, view{Error: o.msg(r, key, args...)}, d)
	}
	admin, ok := map[string]bool{"admin": true, "operator": false, operators.RoleBuildingLead: false}[role]
	switch {
	case name == "":
		refuse("name", "users.err.name_empty")
		return
	case !operators.ValidUserName(name):
		refuse("name", "users.err.name_bad", name)
		return
	case !ok:
		refuse("role", "users.err.role", role)
		return
	}
	pw, err := operators.NewPassword()
	if err != nil {
		o.fail(w, "make a password", err)
		return
	}
	var err2 error
	if role == operators.RoleBuildingLead {
		err2 = o.store.AddLead(r.Context(), name, pw, strings.TrimSpace(r.PostFormValue("site")),
			operators.CleanList(r.PostFormValue("buildings")))
	} else {
		err2 = o.store.AddUser(r.Context(), name, pw, admin)
	}
	if err := err2; err != nil {
		if errors.Is(err, operators.ErrUserExists) {
			refuse("name", "users.err.exists", name)
			return
		}
		if errors.Is(err, operators.ErrBadScope) {
			refuse("site", "users.err.scope", err.Error())
			return
		}
		o.fail(w, "add the user", err)
		return
	}
	detail := name + " role=" + role
	if role == operators.RoleBuildingLead {
		detail += " site=" + strings.TrimSpace(r.PostFormValue("site")) + " buildings=" + strings.Join(operators.CleanList(r.PostFormValue("buildings")), ",")
	}
	o.audit(r, sess.User.Name, "user_add", detail)
	o.renderUsers(w, r, http.StatusOK, view{}, usersData{Shown: &shownPassword{Name: name, Password: pw, New: true}})
}

// changeUser disables, enables, changes the role of, or makes a new
// password for an account. An admin may not disable or demote themselves:
// the console would be left without the admin who is using it.
func (o *Console) changeUser(w http.ResponseWriter, r *http.Request) {
	sess, _ := sessionFrom(r.Context())
	name, action := r.PathValue("name"), r.PostFormValue("action")
	refuse := func(key string, args ...any) {
		o.renderUsers(w, r, http.StatusBadRequest, view{Error: o.msg(r, key, args...)}, usersData{Field: "action"})
	}
	self := name == sess.User.Name
	var err error
	var shown *shownPassword
	switch action {
	case "disable", "enable":
		if self && action == "disable" {
			refuse("users.err.self_disable")
			return
		}
		if err = o.store.SetDisabled(r.Context(), name, action == "disable"); err == nil {
			o.audit(r, sess.User.Name, "user_"+action+"d", name)
		}
	case "admin", "operator":
		if self && action == "operator" {
			refuse("users.err.self_demote")
			return
		}
		if err = o.store.SetAdmin(r.Context(), name, action == "admin"); err == nil {
			o.audit(r, sess.User.Name, "user_role", name+" role="+action)
		}
	case "scope":
		sites := operators.CleanList(r.PostFormValue("sites"))
		if err = o.store.SetScope(r.Context(), name, sites); errors.Is(err, operators.ErrBadScope) {
			refuse("users.err.scope", err.Error())
			return
		}
		if err == nil {
			o.audit(r, sess.User.Name, "user_scope", name+" sites="+scopeText(sites))
		}
	case "lead":
		if err = o.setLead(r, sess.User.Name, name); errors.Is(err, operators.ErrBadScope) {
			refuse("users.err.scope", err.Error())
			return
		}
	case "passwd":
		pw, perr := operators.NewPassword()
		if perr != nil {
			o.fail(w, "make a password", perr)
			return
		}
		if err = o.store.SetPassword(r.Context(), name, pw); err == nil {
			o.audit(r, sess.User.Name, "user_passwd", name)
			shown = &shownPassword{Name: name, Password: pw}
		}
	default:
		refuse("users.err.action", action)
		return
	}
	if errors.Is(err, operators.ErrNoUser) {
		refuse("users.err.no_user", name)
		return
	}
	if err != nil {
		o.fail(w, "change the user", err)
		return
	}
	if shown != nil {
		o.renderUsers(w, r, http.StatusOK, view{}, usersData{Shown: shown})
		return
	}
	http.Redirect(w, r, "/ops/users?done=1", http.StatusSeeOther)
}

// setLead changes the buildings (and compound) of the building lead name,
// and audits it. An account that is not a lead is refused: the role
// changes on its own button, not as a side effect of a scope.
func (o *Console) setLead(r *http.Request, by, name string) error {
	u, err := o.store.User(r.Context(), name)
	if err != nil {
		return err
	}
	if !u.Lead {
		return fmt.Errorf("%w: %s is not a building lead", operators.ErrBadScope, name)
	}
	site, buildings := strings.TrimSpace(r.PostFormValue("site")), operators.CleanList(r.PostFormValue("buildings"))
	if err := o.store.SetLead(r.Context(), name, site, buildings); err != nil {
		return err
	}
	o.audit(r, by, "user_lead", name+" site="+site+" buildings="+strings.Join(buildings, ","))
	return nil
}

// audit writes a line of the audit log for a change already made (in
// console.db, passes.db or the hub's store); the change stands if the
// line cannot be written, so the log carries everything the line would
// have said.
func (o *Console) audit(r *http.Request, user, action, detail string) {
	if err := o.store.Audit(r.Context(), user, action, detail); err != nil {
		o.log.Error("console: a change was made but not audited", "user", user, "action", action, "detail", detail, "err", err)
	}
}

// scopeText is a scope as the audit log records it.
func scopeText(sites []string) string {
	if len(sites) == 0 {
		return "all"
	}
	return strings.Join(sites, ",")
}
