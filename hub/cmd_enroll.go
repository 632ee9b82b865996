package main

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/skip2/go-qrcode"
	"github.com/spf13/cobra"

	"github.com/gatepost/gatepost/hub/datadir"
	"github.com/gatepost/gatepost/hub/enroll"
	"github.com/gatepost/gatepost/hub/pki"
	"github.com/gatepost/gatepost/hub/registry"
	"github.com/gatepost/gatepost/protocol"
)

// loadTLS reads the hub's CA and server certificate; nil, nil when
// `hub tls init` has not been run.
func (h *hubData) loadTLS() (*pki.Files, error) {
	f, err := pki.Load(h.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return f, err
}

// codeOut is what `hub kiosks enroll --json` prints.
type codeOut struct {
	Site          string    `json:"site"`
	Kiosk         string    `json:"kiosk"`
	Code          string    `json:"code"`
	Hub           string    `json:"hub"`
	CAFingerprint string    `json:"ca_fingerprint"`
	Expires       time.Time `json:"expires"`
}

func newKiosksEnrollCommand(data *hubData, stdout io.Writer) *cobra.Command {
	var site, kiosk, hub string
	var ttl time.Duration
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "enroll --site S --kiosk K",
		Short: "Make a one-time enrollment code for a kiosk, printed as text and as a QR code",
		Long: "Makes a one-time code (single use, expires after --ttl, bound to this site and kiosk) for\n" +
			"`kiosk enroll --config kiosk.toml CODE` on the kiosk. The code names the hub's enrollment\n" +
			"address (--hub, default the certificate's first name and port 8443) and the fingerprint of\n" +
			"the hub's CA, which the kiosk pins. A new code for an enrolled kiosk re-enrolls it with a new\n" +
			"key (a replaced device keeping its id). Needs `hub tls init` first.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if site == "" || kiosk == "" {
				return errors.New("--site and --kiosk are required")
			}
			files, err := data.loadTLS()
			if err != nil {
				return err
			}
			if files == nil {
				return enroll.ErrNoTLS
			}
			// The code pins this folder's CA: it must be the one the hubs
			// on a shared database serve.
			if err := data.dir(cmd).CheckShared(cmd.Context(), datadir.CASecret(files.CAOrNil())); err != nil {
				return err
			}
			return data.withRegistry(cmd, func(reg *registry.Store) error {
				before, _ := reg.Get(cmd.Context(), kiosk)
				code, expires, err := enroll.NewCode(cmd.Context(), reg, files, hub, site, kiosk, ttl)
				if err != nil {
					return err
				}
				data.audit(cmd, "kiosk_code", fmt.Sprintf("%s/%s expires %s", site, kiosk, expires.UTC().Format(time.RFC3339)))
				out := codeOut{Site: site, Kiosk: kiosk, Code: code.String(), Hub: code.Hub, CAFingerprint: code.CA, Expires: expires}
				if asJSON {
					return listing{json: true}.print(stdout, out, nil)
				}
				if before.State == registry.Enrolled {
					fmt.Fprintf(stdout, "Note: %s/%s is enrolled (key %s). This code re-enrolls it with the key of the device that uses it;\n"+
						"from then on the old device's login is refused.\n\n", site, kiosk, before.Fingerprint())
				}
				return printCode(stdout, out)
			})
		},
	}
	cmd.Flags().StringVar(&site, "site", "", "the kiosk's site")
	cmd.Flags().StringVar(&kiosk, "kiosk", "", "the kiosk's id")
	cmd.Flags().DurationVar(&ttl, "ttl", 24*time.Hour, "how long the code works (at most 720h)")
	cmd.Flags().StringVar(&hub, "hub", "", "HOST:PORT the kiosk reaches the hub's enrollment listener by (default: the certificate's first name, port "+enroll.DefaultPort+")")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON (no QR)")
	return cmd
}

func printCode(w io.Writer, c codeOut) error {
	qr, err := qrcode.New(c.Code, qrcode.Medium)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Enrollment code for %s/%s (works once, until %s):\n\n  %s\n\n", c.Site, c.Kiosk, c.Expires.UTC().Format(time.RFC3339), c.Code)
	io.WriteString(w, qr.ToSmallString(false))
	_, err = fmt.Fprintf(w, "\nOn the kiosk: kiosk enroll --config kiosk.toml '%s'\n"+
		"The kiosk must reach %s; it checks the hub by the CA fingerprint %s.\n", c.Code, c.Hub, c.CAFingerprint)
	return err
}

func newKiosksAddCommand(data *hubData, stdout io.Writer) *cobra.Command {
	var site, kiosk, pubText, out, broker string
	cmd := &cobra.Command{
		Use:   "add --site S --kiosk K --public-key ed25519:… --out FILE",
		Short: "Enroll a kiosk offline by its public key, writing an enrollment file to carry to it",
		Long: "For a kiosk with no link to the hub at install time: give the public key `kiosk identity`\n" +
			"printed on it. The kiosk is enrolled now, and FILE holds its broker login, the hub's downlink\n" +
			"key and CA, sealed to the kiosk's key: only that kiosk can open it. Carry FILE to the kiosk and\n" +
			"run `kiosk enroll --config kiosk.toml --file FILE` there.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if site == "" || kiosk == "" || pubText == "" || out == "" {
				return errors.New("--site, --kiosk, --public-key and --out are required")
			}
			pub, err := protocol.ParsePublicKeyText(pubText)
			if err != nil {
				return err
			}
			if err := data.mustExist(); err != nil {
				return err
			}
			files, err := data.loadTLS()
			if err != nil {
				return err
			}
			if broker == "" {
				broker = enroll.DefaultBroker(files)
			}
			// The file hands the kiosk this folder's downlink key and CA:
			// on a shared database, those the hubs there use.
			dir := data.dir(cmd)
			downlink, err := dir.DownlinkKey()
			if err != nil {
				return err
			}
			if err := dir.CheckShared(cmd.Context(), datadir.DownlinkSecret(downlink.Public().(ed25519.PublicKey)),
				datadir.CASecret(files.CAOrNil())); err != nil {
				return err
			}
			// Made first, exclusively: a file already there is never
			// overwritten, and the kiosk is not enrolled for a file that
			// cannot be written.
			f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if errors.Is(err, fs.ErrExist) {
				return fmt.Errorf("%s exists: choose another --out, or remove it first", out)
			}
			if err != nil {
				return err
			}
			sealed, err := addOffline(cmd, data, downlink.Public().(ed25519.PublicKey), files, site, kiosk, pub, broker)
			if err == nil {
				_, err = f.Write(sealed)
			}
			if err == nil {
				err = f.Sync()
			}
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				os.Remove(out)
				return err
			}
			data.audit(cmd, "kiosk_add", fmt.Sprintf("%s/%s key %s", site, kiosk, protocol.Fingerprint(pub)))
			if files == nil {
				fmt.Fprintf(stdout, "Note: this hub has no TLS (`hub tls init` not run), so the kiosk will use %s in the clear: only for a kiosk on this machine.\n", broker)
			}
			fmt.Fprintf(stdout, "%s/%s enrolled with key %s; its broker is %s.\n"+
				"Wrote %s (0600), sealed to that key: only that kiosk can open it.\n"+
				"Carry it to the kiosk and run there:\n  kiosk enroll --config kiosk.toml --file %s\n"+
				"Check that `kiosk identity` there shows the same fingerprint.\n", site, kiosk, protocol.Fingerprint(pub), broker, out, out)
			return nil
		},
	}
	cmd.Flags().StringVar(&site, "site", "", "the kiosk's site")
	cmd.Flags().StringVar(&kiosk, "kiosk", "", "the kiosk's id")
	cmd.Flags().StringVar(&pubText, "public-key", "", "the kiosk's public key, as `kiosk identity` prints it (ed25519:…)")
	cmd.Flags().StringVar(&out, "out", "", "the enrollment file to write (made 0600; never overwritten)")
	cmd.Flags().StringVar(&broker, "broker", "", "the broker URL the kiosk connects to (default: tls://<certificate's first name>:"+
		enroll.DefaultBrokerPort+", or "+enroll.LoopbackBroker+" on a hub without TLS)")
	return cmd
}

func addOffline(cmd *cobra.Command, data *hubData, downlink ed25519.PublicKey, files *pki.Files, site, kiosk string, pub ed25519.PublicKey, broker string) ([]byte, error) {
	var sealed []byte
	err := data.withRegistry(cmd, func(reg *registry.Store) error {
		var err error
		sealed, err = enroll.AddOffline(cmd.Context(), reg, downlink, files, site, kiosk, pub, broker)
		return err
	})
	return sealed, err
}
