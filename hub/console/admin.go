package console

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/gatepost/gatepost/protocol"
)

// Publisher sends a downlink to kiosks: in `hub serve`, the server (its
// PublishDownlink goes through hub/downlink.Issue, as `hub push` does).
type Publisher interface {
	PublishDownlink(ctx context.Context, site, kiosk string, kind protocol.DownlinkKind,
		payload json.RawMessage) (protocol.Downlink, error)
	// BrokerConnected reports whether the hub's MQTT client is connected
	// now; a message issued while it is not is published on reconnect.
	BrokerConnected() bool
}

// adminPages are the pages only admins see: users, kiosk configuration
// and retention.
var adminPages = []string{"users", "kiosks", "retention"}

func (o *ops) adminRoutes(mux *http.ServeMux) {
	mux.Handle("GET /ops/users", o.auth(true, o.serveUsers))
	mux.Handle("POST /ops/users", o.auth(true, o.addUser))
	mux.Handle("POST /ops/users/{name}", o.auth(true, o.changeUser))
	mux.Handle("GET /ops/kiosks", o.auth(true, o.serveKiosks))
	mux.Handle("POST /ops/kiosks", o.auth(true, o.publishConfig))
	mux.Handle("GET /ops/retention", o.auth(true, o.serveRetention))
	mux.Handle("POST /ops/retention", o.auth(true, o.postRetention))
}

// msg is the message key in the request's language, formatted with args.
func (o *ops) msg(r *http.Request, key string, args ...any) string {
	s, ok := o.msgs[requestLang(r)][key]
	if !ok {
		s = key
	}
	if len(args) == 0 {
		return s
	}
	return fmt.Sprintf(s, args...)
}
