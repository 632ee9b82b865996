package daemon

import (
	"fmt"
	"log/slog"
	"net/url"

	"github.com/gatepost/gatepost/internal/backoff"
	"github.com/gatepost/gatepost/kiosk/config"
	"github.com/gatepost/gatepost/kiosk/enrollment"
	"github.com/gatepost/gatepost/kiosk/identity"
	"github.com/gatepost/gatepost/kiosk/uplink"
	"github.com/gatepost/gatepost/kiosk/words"
	"github.com/gatepost/gatepost/protocol"
)

// KeyNotEnrolled is the catalogues' warning for a kiosk that has not
// enrolled at the hub (the screen and `kiosk status` show it).
const KeyNotEnrolled = "enroll_not_enrolled"

// NotEnrolled is that warning in both languages, Chinese first.
func NotEnrolled() string { return words.Both(KeyNotEnrolled, nil) }

// login fills in how the uplink reaches and trusts the hub. Enrolled, it
// is the enrollment's: its broker (which wins over the configuration's
// mqtt.broker), its login with the username as the client id, TLS trusting
// its CA alone, and the hub's downlink key. Not enrolled, it is the
// configuration's broker and login, with no key, so no downlink is
// applied. An enrollment file that cannot be used is an error.
func login(uc *uplink.Config, cfg config.Config, log *slog.Logger) (enrolled bool, err error) {
	uc.Broker, uc.Username, uc.Password = cfg.MQTT.Broker, cfg.MQTT.Username, cfg.MQTT.Password
	a, enrolled, err := enrollment.Load(cfg.DataDir)
	if err != nil || !enrolled {
		return false, err
	}
	if a.Site != cfg.Site || a.Kiosk != cfg.Kiosk {
		return false, fmt.Errorf("the enrollment in %s is for %s/%s, but the configuration says this kiosk is %s/%s: correct the configuration, or enroll this kiosk again (kiosk enroll)",
			enrollment.Path(cfg.DataDir), a.Site, a.Kiosk, cfg.Site, cfg.Kiosk)
	}
	if cfg.MQTT.Broker != a.Broker {
		log.Info("using the enrollment's broker, not the configuration's mqtt.broker", "enrollment", a.Broker, "config", cfg.MQTT.Broker)
	}
	if backoff.InClear(a.Broker) {
		return false, fmt.Errorf("the enrollment names broker %s, plain MQTT off this machine: the kiosk's login and visitors' names would cross the network in clear text; enroll again with a tls:// broker (the hub's `hub tls init`)", a.Broker)
	}
	uc.Broker, uc.Username, uc.Password, uc.ClientID = a.Broker, a.Username, a.Secret, a.Username
	if uc.DownlinkKey, err = protocol.ParsePublicKeyText(a.DownlinkKey); err != nil { // Load validated it
		return false, fmt.Errorf("the enrollment's downlink key: %w; enroll the kiosk again", err)
	}
	u, err := url.Parse(a.Broker)
	if err != nil {
		return false, fmt.Errorf("the enrollment's broker %q: %w; enroll the kiosk again", a.Broker, err)
	}
	if backoff.SchemeTLS(u.Scheme) {
		if uc.TLS, err = enrollment.TLSConfig(a, u.Hostname()); err != nil {
			return false, err
		}
	}
	return true, nil
}

// signWith gives the uplink the kiosk's identity key, with which it signs
// every batch (the hub stores nothing of an enrolled kiosk's batch it
// cannot verify against the key enrolled). An enrolled kiosk whose key
// cannot be read does not start: its batches would all be refused. One
// not enrolled makes its key if it has none, and sends unsigned if the
// key is unusable (only a hub in transition takes it anyway).
func signWith(uc *uplink.Config, cfg config.Config, enrolled bool, log *slog.Logger) error {
	k, _, err := identity.LoadOrCreate(cfg.DataDir)
	if err != nil {
		if enrolled {
			return fmt.Errorf("the kiosk key, with which every batch is signed: %w", err)
		}
		log.Warn("the kiosk key cannot be used; batches go unsigned, and only a hub with the site in transition takes them", "err", err)
		return nil
	}
	uc.Key = k.Private
	return nil
}
