package console

import (
	"fmt"
	"net/http"
)

// adminPages are the pages only admins see: users, kiosk configuration
// and retention.
var adminPages = []string{"users", "kiosks", "retention"}

func (o *Console) adminRoutes() {
	o.handle("GET /ops/users", adminsOnly, 0, o.serveUsers)
	o.handle("POST /ops/users", adminsOnly, 0, o.addUser)
	o.handle("POST /ops/users/{name}", adminsOnly, 0, o.changeUser)
	o.handle("GET /ops/kiosks", adminsOnly, 0, o.serveKiosks)
	o.handle("POST /ops/kiosks", adminsOnly, 0, o.publishConfig)
	o.handle("GET /ops/retention", adminsOnly, 0, o.serveRetention)
	o.handle("POST /ops/retention", adminsOnly, 0, o.postRetention)
	o.handle("POST /ops/fleet/enroll", adminsOnly, 0, o.enrollKiosk)
	o.handle("POST /ops/fleet/retire", adminsOnly, 0, o.retireKiosk)
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
