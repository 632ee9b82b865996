package broker

import (
	"bytes"
	"errors"
	"sync/atomic"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// OversizeMetric is the name hub/server gives Oversize's count on /metrics.
const OversizeMetric = "gatepost_hub_broker_oversize_total"

// Oversize counts the packets the broker refuses as too large: over the
// server's MaximumPacketSize (maxPacketBytes here). mochi reads such a
// packet's fixed header, sees the length and ends the connection with
// packets.ErrPacketTooLarge before reading the body; that error reaches
// the hooks only as OnDisconnect's, so that is where it is counted. A
// CONNECT over the limit ends before the client is attached and reaches
// no hook: mochi logs it, and it is not counted. Nothing of an oversize
// packet reaches the hub, so it cannot be logged by ingest or acked; a
// kiosk that sends one reconnects and, its batch never acknowledged,
// sends it again: an oversize batch from a real kiosk means its
// batch_size is set too high for its entries.
//
// Install it with srv.AddHook(o, nil) beside the access hook: it allows
// and denies nothing.
type Oversize struct {
	mqtt.HookBase
	// Refused, if set, is told of each oversize packet with the login and
	// client id it came from, for the log. It runs on the client's
	// goroutine in the broker and must not block.
	Refused func(username, clientID string)

	n atomic.Uint64
}

var _ mqtt.Hook = (*Oversize)(nil)

// ID names the hook for mochi.
func (o *Oversize) ID() string { return "gatepost-oversize" }

// Provides says Oversize implements OnDisconnect only.
func (o *Oversize) Provides(b byte) bool { return bytes.Contains([]byte{mqtt.OnDisconnect}, []byte{b}) }

// OnDisconnect counts a connection ended by a packet too large.
func (o *Oversize) OnDisconnect(cl *mqtt.Client, err error, _ bool) {
	if !errors.Is(err, packets.ErrPacketTooLarge) {
		return
	}
	o.n.Add(1)
	if o.Refused != nil {
		o.Refused(string(cl.Properties.Username), cl.ID)
	}
}

// Count is how many packets were refused as too large since the hook was
// made.
func (o *Oversize) Count() uint64 { return o.n.Load() }
