package server

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/gatepost/gatepost/hub/downlink"
	"github.com/gatepost/gatepost/hub/link"
	"github.com/gatepost/gatepost/internal/clock"
	"github.com/gatepost/gatepost/protocol"
)

// PublishDownlink issues the next version of a downlink message of kind
// for every kiosk of site (kiosk "") or for one kiosk, stores it, and
// publishes it retained, signed with the hub's downlink key. payload must be a JSON object; for "config" it is
// a protocol.ConfigPayload. Kiosks keep the highest version they receive,
// so a message published while a kiosk is offline reaches it on connect.
func (s *Server) PublishDownlink(ctx context.Context, site, kiosk string, kind protocol.DownlinkKind,
	payload json.RawMessage) (protocol.Downlink, error) {
	// Stored first: if the broker is away now, the next connect republishes,
	// so there is no point in waiting for a PUBACK that cannot come.
	publish := func(ctx context.Context, topic string, body []byte) error {
		if !s.BrokerConnected() {
			return fmt.Errorf("not connected to the broker %s", s.brokerURL)
		}
		return s.link.Publish(ctx, topic, body)
	}
	return downlink.Issue(ctx, s.store, publish, s.downlinkKey, site, kiosk, kind, payload, clock.Or(s.clock).Now())
}

// republishDownlinks runs after each subscription: a restarted broker may
// have lost its retained messages, and kiosks must find the latest. It
// gets the link because the first subscription may come before
// link.Dial has returned.
func (s *Server) republishDownlinks(l *link.Link) {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	ds, err := s.store.Downlinks(ctx)
	if err != nil {
		s.log.Error("cannot read downlinks to republish", "err", err)
		return
	}
	for _, d := range ds {
		if err := downlink.Publish(ctx, l.Publish, s.downlinkKey, d); err != nil {
			s.log.Warn("downlink not republished; next connect tries again", "kind", d.Kind, "site", d.Site, "err", err)
			return
		}
	}
}

// feedHub is what the pass feed needs of the hub: the downlinks stored,
// the sites with kiosks, and PublishDownlink.
type feedHub struct{ *Server }

func (h feedHub) Downlinks(ctx context.Context) ([]protocol.Downlink, error) {
	return h.store.Downlinks(ctx)
}

// KioskSites lists the site of every kiosk the hub knows, repeats and
// empty sites included (the feed drops them).
func (h feedHub) KioskSites(ctx context.Context) ([]string, error) {
	ks, err := h.store.Kiosks(ctx)
	if err != nil {
		return nil, err
	}
	sites := make([]string, 0, len(ks))
	for _, k := range ks {
		sites = append(sites, k.Site)
	}
	return sites, nil
}
