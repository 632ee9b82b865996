package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/spf13/cobra"

	"github.com/gatepost/gatepost/hub/datadir"
	"github.com/gatepost/gatepost/hub/downlink"
	"github.com/gatepost/gatepost/hub/pki"
	"github.com/gatepost/gatepost/hub/records"
	"github.com/gatepost/gatepost/internal/backoff"
	"github.com/gatepost/gatepost/internal/clock"
	"github.com/gatepost/gatepost/protocol"
)

func newPushCommand(data *hubData, stdout io.Writer) *cobra.Command {
	var broker, brokerCA, site, kiosk, kind, payload string
	cmd := &cobra.Command{
		Use:   "push",
		Short: "Publish a new version of a downlink (config, status_list, keys) to a site or one kiosk, signed with the hub's downlink key",
		Example: `  hub push --site huamu-1 --kind config --payload '{"fever_c":37.5}'
  hub push --site huamu-1 --kiosk gate-1 --kind config --payload '{"fever_c":37.2}'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			k := protocol.DownlinkKind(kind)
			if !k.Valid() {
				return fmt.Errorf("--kind must be config, status_list or keys, got %q", kind)
			}
			if err := downlink.Check(site, kiosk, k, json.RawMessage(payload)); err != nil {
				return fmt.Errorf("push refused: %w", err)
			}
			return data.withRecords(cmd, true, func(store *records.SQLite) error {
				// Inside: a mistyped --data is refused before any key is made there.
				dir := data.dir(cmd)
				key, err := dir.SharedDownlinkKey(cmd.Context())
				if err != nil {
					return err
				}
				_, password, err := dir.BrokerLogin()
				if err != nil {
					return err
				}
				user := datadir.HubCLIUser // not `hub serve`'s name: a broker binding ids to names would cut it off
				login := brokerLogin{url: broker, user: user, password: password}
				if login.tls, err = pushTLS(broker, brokerCA, dir.Path); err != nil {
					return err
				}
				d, err := downlink.Issue(cmd.Context(), store, publishOnce(login, data.clock), key, site, kiosk, k, json.RawMessage(payload), data.clock.Now())
				if err != nil {
					return err
				}
				fmt.Fprintf(stdout, "published %s version %d to %s\n", k, d.Version, protocol.DownlinkTopic(site, kiosk, k))
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&broker, "broker", "tcp://127.0.0.1:1883", "the MQTT broker the kiosks use (tcp:// on this machine, or tls://)")
	f.StringVar(&brokerCA, "broker-ca", "", "PEM file of the CA a tls:// broker's certificate is signed by (default: the hub's own, tls/ca.crt, if made)")
	f.StringVar(&site, "site", "", "site to publish to")
	f.StringVar(&kiosk, "kiosk", "", "one kiosk of the site (default: every kiosk of the site)")
	f.StringVar(&kind, "kind", "config", "config, status_list or keys")
	f.StringVar(&payload, "payload", "", `a JSON object, e.g. {"fever_c":37.5}`)
	cmd.MarkFlagRequired("site")
	cmd.MarkFlagRequired("payload")
	return cmd
}

// brokerLogin is where and as whom `hub push` publishes: the hub's own
// broker account (datadir.Dir.BrokerLogin), the one allowed to publish
// downlinks.
type brokerLogin struct {
	url, user, password string
	tls                 *tls.Config // for a tls:// broker
}

// pushTLS is the TLS configuration for a tls:// broker: trusting caFile,
// else the hub's own CA when `hub tls init` made one, else the system's
// roots. A plain broker off this machine is refused: the hub's password
// would cross the network in clear text.
func pushTLS(broker, caFile, dataDir string) (*tls.Config, error) {
	if backoff.InClear(broker) {
		return nil, fmt.Errorf("--broker %s is plain MQTT off this machine: the hub's password would cross the network in clear text; use tls://", broker)
	}
	u, err := url.Parse(broker)
	if err != nil || !backoff.SchemeTLS(u.Scheme) {
		return nil, err
	}
	if caFile == "" {
		if _, err := os.Stat(filepath.Join(dataDir, pki.Dir, pki.CACert)); err != nil {
			return &tls.Config{MinVersion: tls.VersionTLS12}, nil
		}
		caFile = filepath.Join(dataDir, pki.Dir, pki.CACert)
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("--broker-ca: %w", err)
	}
	return pki.ClientConfig(pem)
}

// publishOnce connects to the broker, publishes one retained message and
// disconnects: a command needs no standing link. Its client id is its own
// (not the hub's username), so it never takes over `hub serve`'s session.
func publishOnce(b brokerLogin, clk clock.Clock) downlink.PublishFunc {
	broker := b.url
	return func(_ context.Context, topic string, body []byte) error {
		o := paho.NewClientOptions().AddBroker(broker).SetUsername(b.user).SetPassword(b.password).
			SetClientID(fmt.Sprintf("gatepost-push-%d", clk.Now().UnixNano())).SetConnectTimeout(5 * time.Second)
		if b.tls != nil {
			o.SetTLSConfig(b.tls)
		}
		c := paho.NewClient(o)
		if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			return fmt.Errorf("the broker %s is not reachable: %v", broker, tok.Error())
		}
		defer c.Disconnect(250)
		tok := c.Publish(topic, 1, true, body)
		if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			return fmt.Errorf("no PUBACK from %s: %v", broker, tok.Error())
		}
		return nil
	}
}
