package main

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatepost/gatepost/hub/pki"
)

// tlsOut is what `hub tls show --json` prints.
type tlsOut struct {
	Dir           string    `json:"dir"`
	CAFingerprint string    `json:"ca_fingerprint"`
	CAExpires     time.Time `json:"ca_expires"`
	Names         []string  `json:"names"`
	ServerExpires time.Time `json:"server_expires"`
}

func tlsInfo(f *pki.Files) tlsOut {
	return tlsOut{Dir: f.Dir, CAFingerprint: pki.Fingerprint(f.CA), CAExpires: f.CA.NotAfter, Names: f.Names(), ServerExpires: f.Leaf.NotAfter}
}

func printTLS(w io.Writer, t tlsOut, now time.Time) {
	fmt.Fprintf(w, "CA fingerprint:  %s (enrollment codes carry it; kiosks pin it)\n", t.CAFingerprint)
	fmt.Fprintf(w, "CA valid until:  %s\n", t.CAExpires.UTC().Format(time.RFC3339))
	fmt.Fprintf(w, "server names:    %v\n", t.Names)
	fmt.Fprintf(w, "server valid until: %s\n", t.ServerExpires.UTC().Format(time.RFC3339))
	fmt.Fprintf(w, "files:           %s/{%s, %s (secret, 0600; back it up), %s, %s (secret, 0600)}\n",
		t.Dir, pki.CACert, pki.CAKey, pki.ServerCert, pki.ServerKey)
	if left := t.ServerExpires.Sub(now); left < 30*24*time.Hour {
		fmt.Fprintf(w, "WARNING: the server certificate expires in %s: run `hub tls renew` and restart `hub serve`.\n", left.Round(time.Hour))
	}
}

func newTLSCommand(data *hubData, stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tls",
		Short: "The hub's private CA and server certificate, for MQTT over TLS and HTTPS enrollment",
		Example: `  hub tls init --name hub.huamu.local --name 192.168.10.2
  hub tls show
  hub tls renew --name hub.huamu.local --name 192.168.10.3`,
	}
	var names []string
	initCmd := &cobra.Command{
		Use:   "init --name HOST [--name HOST2 …]",
		Short: "Make the CA and a server certificate for the names kiosks reach the hub by",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := pki.Init(data.path, pki.Options{Names: names, Now: data.clock.Now()})
			if err != nil {
				return err
			}
			data.audit(cmd, "tls_init", fmt.Sprintf("names %v ca %s", f.Names(), pki.Fingerprint(f.CA)))
			fmt.Fprintf(stdout, "Made a CA and a server certificate in %s.\n", f.Dir)
			printTLS(stdout, tlsInfo(f), data.clock.Now())
			fmt.Fprintln(stdout, "Next: restart `hub serve` to serve TLS, then `hub kiosks enroll --site S --kiosk K`.")
			return nil
		},
	}
	initCmd.Flags().StringArrayVar(&names, "name", nil, "a host name or IP address kiosks reach the hub by (repeat for more)")
	var renewNames []string
	renew := &cobra.Command{
		Use:   "renew [--name HOST …]",
		Short: "Issue a new server certificate from the same CA (enrolled kiosks keep trusting the hub)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := pki.Renew(data.path, pki.Options{Names: renewNames, Now: data.clock.Now()})
			if err != nil {
				return err
			}
			data.audit(cmd, "tls_renew", fmt.Sprintf("names %v", f.Names()))
			fmt.Fprintln(stdout, "New server certificate; the CA is unchanged, so enrolled kiosks keep trusting the hub.")
			printTLS(stdout, tlsInfo(f), data.clock.Now())
			fmt.Fprintln(stdout, "Restart `hub serve` to serve it.")
			return nil
		},
	}
	renew.Flags().StringArrayVar(&renewNames, "name", nil, "the names for the new certificate (default: the old certificate's)")
	var asJSON bool
	show := &cobra.Command{
		Use:   "show",
		Short: "Print the CA fingerprint, the server certificate's names and when each expires",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := pki.Load(data.path)
			if err != nil {
				return err
			}
			t := tlsInfo(f)
			return listing{json: asJSON}.print(stdout, t, func(w io.Writer) { printTLS(w, t, data.clock.Now()) })
		},
	}
	show.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.AddCommand(initCmd, renew, show)
	return cmd
}
