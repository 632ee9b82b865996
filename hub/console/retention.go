package console

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gatepost/gatepost/hub/operators"
)

type retentionData struct {
	Kinds     []retentionKind
	Previewed bool // Would counts the values typed, not the ones in force
	Max       int
	Field     string // the field a refused form got wrong
}

type retentionKind struct {
	Kind    string
	Current int    // days in force
	Days    string // the form's value
	Would   int    // entries whose personal details the hourly purge would remove with Days
}

// retentionView counts, with the same code as `hub purge --dry-run`, what
// the purge would remove with days (the settings in force if nil).
func (o *Console) retentionView(r *http.Request, v view, typed map[string]string, days map[string]int, field string) (view, error) {
	current, err := o.store.Retention(r.Context())
	if err != nil {
		return v, err
	}
	d := retentionData{Previewed: days != nil, Max: operators.MaxRetention, Field: field}
	if days == nil {
		days = current
	}
	counts, err := operators.PurgeByRetention(r.Context(), o.rec, days, o.clock.Now(), true)
	if err != nil {
		return v, err
	}
	would := map[string]int{}
	for _, c := range counts {
		would[c.Kind] = c.Entries
	}
	for _, kind := range operators.RetentionKinds() {
		k := retentionKind{Kind: kind, Current: current[kind], Days: strconv.Itoa(current[kind]), Would: would[kind]}
		if s, ok := typed[kind]; ok {
			k.Days = s
		}
		d.Kinds = append(d.Kinds, k)
	}
	v.Data = d
	return v, nil
}

func (o *Console) serveRetention(w http.ResponseWriter, r *http.Request) {
	v := view{}
	if r.URL.Query().Get("done") == "1" {
		v.Notice = o.msg(r, "admin.saved")
	}
	v, err := o.retentionView(r, v, nil, nil, "")
	if err != nil {
		o.fail(w, "count what the purge would remove", err)
		return
	}
	o.render(w, r, http.StatusOK, "retention", v)
}

// postRetention previews (do=preview: counts only) or saves the days per
// kind typed in the form. Every field is checked before anything is
// saved; a refused form changes nothing.
func (o *Console) postRetention(w http.ResponseWriter, r *http.Request) {
	sess, _ := sessionFrom(r.Context())
	if err := r.ParseForm(); err != nil {
		http.Error(w, "Bad input: the form could not be read.", http.StatusBadRequest)
		return
	}
	typed := map[string]string{}
	days := map[string]int{}
	refuse := func(field, msg string) {
		v, err := o.retentionView(r, view{Error: msg}, typed, nil, field)
		if err != nil {
			o.fail(w, "count what the purge would remove", err)
			return
		}
		o.render(w, r, http.StatusBadRequest, "retention", v)
	}
	for key, vals := range r.PostForm {
		kind, ok := strings.CutPrefix(key, "days.")
		if !ok {
			continue
		}
		typed[kind] = strings.TrimSpace(vals[0])
	}
	for _, kind := range sortedKeys(typed) {
		if _, ok := operators.DefaultRetention[kind]; !ok {
			delete(typed, kind)
			refuse("days."+kind, o.msg(r, "retention.err.kind", kind))
			return
		}
		n, err := strconv.Atoi(typed[kind])
		if err != nil || operators.CheckRetention(kind, n) != nil {
			refuse("days."+kind, o.msg(r, "retention.err.days", kind, operators.MaxRetention, typed[kind]))
			return
		}
		days[kind] = n
	}
	if len(days) == 0 {
		refuse("", o.msg(r, "retention.err.none"))
		return
	}
	switch r.PostFormValue("do") {
	case "preview":
		current, err := o.store.Retention(r.Context())
		if err != nil {
			o.fail(w, "read the retention", err)
			return
		}
		for k, n := range current {
			if _, ok := days[k]; !ok {
				days[k] = n
			}
		}
		v, err := o.retentionView(r, view{}, typed, days, "")
		if err != nil {
			o.fail(w, "count what the purge would remove", err)
			return
		}
		o.render(w, r, http.StatusOK, "retention", v)
	case "save":
		before, err := o.store.Retention(r.Context())
		if err != nil {
			o.fail(w, "read the retention", err)
			return
		}
		if err := o.store.SetRetentions(r.Context(), days); err != nil {
			o.fail(w, "save the retention", err)
			return
		}
		var changes []string
		for _, kind := range sortedKeys(days) {
			changes = append(changes, fmt.Sprintf("%s=%d (was %d)", kind, days[kind], before[kind]))
		}
		o.audit(r, sess.User.Name, "retention_set", strings.Join(changes, " "))
		http.Redirect(w, r, "/ops/retention?done=1", http.StatusSeeOther)
	default:
		refuse("do", o.msg(r, "retention.err.do"))
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
