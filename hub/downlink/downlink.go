// Package downlink issues the hub's versioned, retained messages to the
// kiosks (config, status_list, keys): it checks the message, has the store
// number and keep it, and publishes it signed with the hub's downlink key
// (hub/datadir.Dir.DownlinkKey; protocol.SignDownlink), which kiosks pin
// at enrollment and check every message against. `hub push`, and in `hub serve`
// the console's kiosk page and the pass feed, all issue through Issue, so
// a kiosk receives the same message whichever way it was sent.
//
// Imported by hub/server, hub/console and the hub's commands.
package downlink

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gatepost/gatepost/protocol"
)

// Store numbers and keeps downlinks: hub/records.SQLite.
type Store interface {
	IssueDownlink(ctx context.Context, site, kiosk string, kind protocol.DownlinkKind,
		payload json.RawMessage, issued time.Time) (protocol.Downlink, error)
}

// PublishFunc publishes body on topic, retained, at QoS 1, and returns
// once the broker has it.
type PublishFunc func(ctx context.Context, topic string, body []byte) error

// ErrNotPublished means the message was stored (and will be published
// when the hub next connects) but could not be published now.
var ErrNotPublished = errors.New("stored but not published")

// Check refuses a message before anything is stored: an unknown kind, a
// bad site or kiosk name, a payload that is not a JSON object, and for
// config a value out of range (protocol.DecodeConfigPayload). Its errors
// are *protocol.FieldError naming the field.
func Check(site, kiosk string, kind protocol.DownlinkKind, payload json.RawMessage) error {
	d := protocol.Downlink{Kind: kind, Site: site, Kiosk: kiosk, Version: 1, Issued: time.Unix(1, 0), Payload: payload}
	if err := d.Validate(); err != nil {
		return err
	}
	if kind == protocol.DownlinkConfig {
		if _, err := protocol.DecodeConfigPayload(payload); err != nil {
			return err
		}
	}
	return nil
}

// Issue checks the message, stores it as the next version of kind for site
// (kiosk "") or one kiosk, and publishes it signed with key. A message
// that was stored but not published is returned with an error wrapping
// ErrNotPublished.
func Issue(ctx context.Context, st Store, publish PublishFunc, key ed25519.PrivateKey, site, kiosk string, kind protocol.DownlinkKind,
	payload json.RawMessage, now time.Time) (protocol.Downlink, error) {
	if len(key) != ed25519.PrivateKeySize {
		return protocol.Downlink{}, errors.New("issue: no downlink key: kiosks would refuse the message, so nothing was stored")
	}
	if err := Check(site, kiosk, kind, payload); err != nil {
		return protocol.Downlink{}, fmt.Errorf("issue %s: %w", kind, err)
	}
	d, err := st.IssueDownlink(ctx, site, kiosk, kind, payload, now)
	if err != nil {
		return protocol.Downlink{}, err
	}
	if err := Publish(ctx, publish, key, d); err != nil {
		return d, fmt.Errorf("%s version %d %w (%v): the hub publishes it when it next connects", kind, d.Version, ErrNotPublished, err)
	}
	return d, nil
}

// Publish publishes a stored message on its topic, signed with key.
func Publish(ctx context.Context, publish PublishFunc, key ed25519.PrivateKey, d protocol.Downlink) error {
	if len(key) != ed25519.PrivateKeySize {
		return errors.New("publish: no downlink key")
	}
	body, err := protocol.SignDownlink(d, key)
	if err != nil {
		return err
	}
	return publish(ctx, protocol.DownlinkTopic(d.Site, d.Kiosk, d.Kind), body)
}

// Config is the payload of a config message an admin sets: the settings a
// kiosk applies at once. Today that is the fever line; a kiosk keeps its
// own value for what is absent.
func Config(feverC float64) (json.RawMessage, error) {
	b, err := json.Marshal(protocol.ConfigPayload{FeverC: &feverC})
	if err != nil { // NaN or infinity
		return nil, &protocol.FieldError{Field: "fever_c", Problem: fmt.Sprintf("must be a number, got %v", feverC)}
	}
	return b, nil
}
