package broker

import (
	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
)

// accessHook decides who may connect and which topics each client may
// publish and subscribe to.
//
// For now every client may do everything. This is the seam for enrollment:
// it will take each kiosk's credentials and allow a kiosk to publish only to
// protocol.EntriesTopic(site, itself) and read only its own ack and
// downlink topics, and the hub to subscribe to every kiosk's entries.
func accessHook() mqtt.Hook {
	return new(auth.AllowHook)
}
