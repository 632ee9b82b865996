package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/gatepost/gatepost/hub/brokerconf"
	"github.com/gatepost/gatepost/hub/datadir"
	"github.com/gatepost/gatepost/hub/link"
	"github.com/gatepost/gatepost/hub/pki"
	"github.com/gatepost/gatepost/hub/registry"
	"github.com/gatepost/gatepost/hub/server"
)

func newBrokerConfigCommand(data *hubData, stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "broker-config",
		Short: "Write an external broker's access files from the kiosk registry",
		Args:  cobra.NoArgs,
	}
	var out string
	var replicas []string
	mosquitto := &cobra.Command{
		Use:   "mosquitto --out DIR",
		Short: "Write Mosquitto's password_file, acl_file and a mosquitto.conf snippet into DIR",
		Long: `Write Mosquitto's password_file (Mosquitto's own hashes), acl_file and a
mosquitto.conf snippet into DIR, from the hub's kiosk registry: every
enrolled kiosk may publish only its own entries, alerts and status and read
only its own ack and downlinks and its site's downlinks; the hub's own
account (gatepost-hub) reads and writes everything under gatepost's topics.

With --replica ID (once per replica of hub serve --replicas), each replica
gets its own two logins, gatepost-hub-ID and gatepost-hub-ID-ingest, with
the hub's password: Mosquitto makes the username the client id, and two
replicas sharing one would keep taking each other's session over.

Run it again after every enroll, add or retire, then reload Mosquitto.
A retired kiosk's open session is cut only when Mosquitto reloads.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return errors.New("--out is required: the folder to write Mosquitto's files into, e.g. /etc/mosquitto/gatepost")
			}
			for _, id := range replicas {
				if err := server.CheckReplicaID(id); err != nil {
					return fmt.Errorf("--replica: %w", err)
				}
			}
			return writeMosquittoConfig(cmd.Context(), data.dir(cmd), out, replicas, stdout, cmd.ErrOrStderr())
		},
	}
	mosquitto.Flags().StringVar(&out, "out", "", "folder to write password_file, acl_file and mosquitto.conf into (created if missing)")
	mosquitto.Flags().StringSliceVar(&replicas, "replica", nil, "a replica's --replica-id: its own hub logins (repeat, or a,b,c)")
	cmd.AddCommand(mosquitto)
	return cmd
}

// writeMosquittoConfig writes the files and tells the operator what to do
// next.
func writeMosquittoConfig(ctx context.Context, dir datadir.Dir, out string, replicas []string, stdout, stderr io.Writer) error {
	accounts, kiosks, err := brokerAccounts(ctx, dir, replicas, stderr)
	if err != nil {
		return err
	}
	var tlsFiles *brokerconf.MosquittoTLS
	files, err := pki.Load(dir.Path)
	switch {
	case err == nil:
		tlsFiles = &brokerconf.MosquittoTLS{CAFile: filepath.Join(files.Dir, pki.CACert),
			CertFile: filepath.Join(files.Dir, pki.ServerCert), KeyFile: filepath.Join(files.Dir, pki.ServerKey)}
		for _, p := range []*string{&tlsFiles.CAFile, &tlsFiles.CertFile, &tlsFiles.KeyFile} {
			*p, _ = filepath.Abs(*p)
		}
	case !errors.Is(err, fs.ErrNotExist):
		fmt.Fprintf(stderr, "warning: the hub's TLS files are unusable, so the TLS lines name none: %v\n", err)
	}
	if err := brokerconf.WriteMosquitto(out, accounts, tlsFiles); err != nil {
		return err
	}
	abs, _ := filepath.Abs(out)
	fmt.Fprintf(stdout, `wrote %s (%d enrolled kiosks and the hub, mode 0600), %s and %s

Include %s in Mosquitto's configuration once (for example, copy it to
/etc/mosquitto/conf.d/gatepost.conf and uncomment a listener), then reload
Mosquitto so that it reads the files:
  systemctl reload mosquitto      (or: kill -HUP $(pidof mosquitto))

Run this command again and reload after every enroll, add or retire. Until
the reload Mosquitto keeps the old files: a kiosk enrolled since cannot log
in yet, and a retired kiosk can still log in. A retired kiosk's open
session is cut only on reload, so reload at once after a retire.

The hub logs in as %s with the password in %s:
  hub serve --broker tls://HOST:8883 --broker-ca CA.crt
`, filepath.Join(abs, brokerconf.PasswordFileName), kiosks, filepath.Join(abs, brokerconf.ACLFileName),
		filepath.Join(abs, brokerconf.MosquittoConfName), filepath.Join(abs, brokerconf.MosquittoConfName),
		datadir.HubUser, filepath.Join(dir.Path, datadir.BrokerLoginFile))
	return nil
}

// brokerAccounts are the hub's own account and every enrolled kiosk's,
// never a pending or retired one. A kiosk with no Mosquitto hash stored
// is left out with a warning rather than failing the whole file (which
// would keep a retired kiosk's login in force).
func brokerAccounts(ctx context.Context, dir datadir.Dir, replicas []string, stderr io.Writer) ([]brokerconf.Account, int, error) {
	if fi, err := os.Stat(dir.Path); err != nil || !fi.IsDir() {
		return nil, 0, fmt.Errorf("no hub data folder at %s: give it with --data (a new, empty one would lock every kiosk out)", dir.Path)
	}
	user, password, err := dir.BrokerLogin()
	if err != nil {
		return nil, 0, fmt.Errorf("the hub's broker login: %w", err)
	}
	hash, err := brokerconf.MosquittoHash(password)
	if err != nil {
		return nil, 0, err
	}
	accounts := []brokerconf.Account{{Hub: true, Username: user, Hash: hash}, {Hub: true, Username: user + link.IngestSuffix, Hash: hash},
		{Hub: true, Username: datadir.HubCLIUser, Hash: hash}}
	for _, id := range replicas {
		r := server.ReplicaUser(user, id)
		accounts = append(accounts, brokerconf.Account{Hub: true, Username: r, Hash: hash},
			brokerconf.Account{Hub: true, Username: r + link.IngestSuffix, Hash: hash})
	}
	reg, err := dir.OpenRegistry()
	if err != nil {
		return nil, 0, err
	}
	defer reg.Close()
	all, err := reg.List(ctx)
	if err != nil {
		return nil, 0, err
	}
	kiosks := 0
	for _, k := range all {
		if k.State != registry.Enrolled {
			continue
		}
		if k.Mosquitto == "" {
			fmt.Fprintf(stderr, "warning: %s/%s has no broker password stored and is left out: enroll it again\n", k.Site, k.Kiosk)
			continue
		}
		accounts = append(accounts, brokerconf.Account{Site: k.Site, Kiosk: k.Kiosk,
			Username: brokerconf.KioskUsername(k.Site, k.Kiosk), Hash: k.Mosquitto})
		kiosks++
	}
	if kiosks == 0 {
		fmt.Fprintln(stderr, "note: no kiosk is enrolled yet: only the hub may log in")
	}
	return accounts, kiosks, nil
}
