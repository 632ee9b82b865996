package console

import (
	"fmt"
	"net/http"
)

// adminPages are the pages only admins see: users, kiosk configuration
// and retention.
var adminPages = []string{"users", "kiosks", "retention"}

func (o *Console) adminRoutes(mux *http.ServeMux) {
	mux.Handle("GET /ops/users", o.auth(true, o.serveUsers))
	mux.Handle("POST /ops/users", o.auth(true, o.addUser))
	mux.Handle("POST /ops/users/{name}", o.auth(true, o.changeUser))
	mux.Handle("GET /ops/kiosks", o.auth(true, o.serveKiosks))
	mux.Handle("POST /ops/kiosks", o.auth(true, o.publishConfig))
	mux.Handle("GET /ops/retention", o.auth(true, o.serveRetention))
	mux.Handle("POST /ops/retention", o.auth(true, o.postRetention))
	mux.Handle("POST /ops/fleet/enroll", o.auth(true, o.enrollKiosk))
	mux.Handle("POST /ops/fleet/retire", o.auth(true, o.retireKiosk))
}

// msg is the message key in the request's language, formatted with args.
func (o *Console) msg(r *http.Request, key string, args ...any) string {
	s, ok := o.msgs[requestLang(r)][key]
	if !ok {
		s = key
	}
	if len(args) == 0 {
		return s
	}
	return fmt.Sprintf(s, args...)
}
