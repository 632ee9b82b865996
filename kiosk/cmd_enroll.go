package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatepost/gatepost/kiosk/config"
	"github.com/gatepost/gatepost/kiosk/enrollment"
	"github.com/gatepost/gatepost/kiosk/identity"
	"github.com/gatepost/gatepost/kiosk/journal"
	"github.com/gatepost/gatepost/protocol"
)

// enrollOut is what `kiosk enroll --json` prints: what the kiosk now
// trusts and how it logs in, never the broker secret.
type enrollOut struct {
	Kiosk       string `json:"kiosk"`
	Site        string `json:"site"`
	Broker      string `json:"broker"`
	Username    string `json:"username"`
	DownlinkKey string `json:"downlink_key_fingerprint"` // the hub's downlink key, as `hub` prints it
	CA          string `json:"ca_fingerprint,omitempty"` // SHA-256 of the pinned CA; empty: none (a loopback-only hub)
	KioskKey    string `json:"kiosk_key_fingerprint"`
	File        string `json:"file"`
	Replaced    bool   `json:"replaced"` // an earlier enrollment was overwritten
	Via         string `json:"via"`      // "code" (online) or "file" (offline)
	// Forgotten counts the downlinks dropped from the journal because they
	// were not checked against this hub key (see forgetUncheckedDownlinks).
	Forgotten int64 `json:"downlinks_forgotten"`
}

// maxEnrollFile bounds what --file reads: a sealed answer is a few KiB.
const maxEnrollFile = 1 << 20

func newEnrollCmd(now func() time.Time) *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "enroll [CODE]",
		Short: "Enroll this kiosk at the hub with a one-time code (or --file from `hub kiosks add`), and keep its broker login, the hub's downlink key and the CA",
		Example: `  kiosk enroll --config kiosk.toml GPE1:hub.huamu.local:8443/ABCD.../5f3a...
  kiosk enroll --config kiosk.toml --file /media/usb/huamu-1-gate-1.enroll`,
		Args: cobra.MaximumNArgs(1),
	}
	conf := addConfigFlag(cmd, "")
	asJSON := addJSONFlag(cmd)
	cmd.Flags().StringVar(&file, "file", "", "an enrollment file made by `hub kiosks add` (offline enrollment), instead of a code")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if (len(args) == 1) == (file != "") {
			return errors.New("give either an enrollment code (from `hub kiosks enroll`) or --file FILE (from `hub kiosks add`), not both, not neither")
		}
		cfg, err := conf.load()
		if err != nil {
			return err
		}
		key, _, err := identity.LoadOrCreate(cfg.DataDir)
		if err != nil {
			return err
		}
		var a protocol.EnrollAnswer
		out := enrollOut{Via: "code"}
		if file != "" {
			out.Via = "file"
			a, err = openEnrollFile(file, key)
		} else {
			a, err = redeem(cmd, args[0], key, cfg, now())
		}
		if err != nil {
			return err
		}
		if a.Site != cfg.Site || a.Kiosk != cfg.Kiosk {
			return fmt.Errorf("this enrollment is for %s/%s, but %s says this kiosk is %s/%s: use the code or file made for this kiosk, or correct site and kiosk in the configuration; nothing was saved",
				a.Site, a.Kiosk, conf.path, cfg.Site, cfg.Kiosk)
		}
		_, statErr := os.Stat(enrollment.Path(cfg.DataDir))
		out.Replaced = statErr == nil
		if out.Forgotten, err = forgetUncheckedDownlinks(cfg, a); err != nil {
			return err
		}
		if err := enrollment.Save(cfg.DataDir, a); err != nil {
			return err
		}
		fillEnrollOut(&out, a, key, cfg)
		return asJSON.print(cmd.OutOrStdout(), out, func(w io.Writer) error { printEnrollOut(w, out); return nil })
	}
	return cmd
}

// forgetUncheckedDownlinks drops the journal's stored downlinks unless the
// kiosk was enrolled with the same hub downlink key: anything stored
// before was not checked against this key, and a forged high version kept
// would make the hub's real pushes look old. The hub's retained messages
// bring them back, signed, on the next connect. It runs before the
// enrollment is saved, so a failure leaves the kiosk as it was enrolled.
func forgetUncheckedDownlinks(cfg config.Config, a protocol.EnrollAnswer) (int64, error) {
	if old, enrolled, err := enrollment.Load(cfg.DataDir); err == nil && enrolled && old.DownlinkKey == a.DownlinkKey {
		return 0, nil
	}
	var n int64
	err := withJournal(cfg, readWrite, func(j *journal.Journal) (err error) {
		n, err = j.ForgetDownlinks(context.Background())
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("%w (stop the kiosk, then enroll again); nothing was saved", err)
	}
	return n, nil
}

func openEnrollFile(path string, key *identity.Key) (protocol.EnrollAnswer, error) {
	f, err := os.Open(path)
	if err != nil {
		return protocol.EnrollAnswer{}, fmt.Errorf("enrollment file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxEnrollFile+1))
	if err != nil {
		return protocol.EnrollAnswer{}, fmt.Errorf("enrollment file: %w", err)
	}
	if len(data) > maxEnrollFile {
		return protocol.EnrollAnswer{}, fmt.Errorf("%s is over %d bytes: it is not an enrollment file from `hub kiosks add`", path, maxEnrollFile)
	}
	a, err := protocol.OpenEnrollFile(data, key.Private)
	if errors.Is(err, protocol.ErrNotForThisKiosk) {
		return protocol.EnrollAnswer{}, fmt.Errorf("%s was made for another kiosk key, not this kiosk's %s: at the hub, run `hub kiosks add` with what `kiosk identity` prints on this kiosk: %w",
			path, key.Fingerprint(), err)
	}
	if err != nil {
		return protocol.EnrollAnswer{}, fmt.Errorf("%s cannot be opened (%w): copy it again from the hub", path, err)
	}
	// The CA, if any, must be usable before it is saved.
	if a.CA != "" {
		if _, err := enrollment.ParseCA(a.CA); err != nil {
			return protocol.EnrollAnswer{}, fmt.Errorf("%s: %w", path, err)
		}
	}
	return a, nil
}

func redeem(cmd *cobra.Command, text string, key *identity.Key, cfg config.Config, now time.Time) (protocol.EnrollAnswer, error) {
	code, err := protocol.ParseEnrollCode(text)
	if err != nil {
		return protocol.EnrollAnswer{}, err
	}
	return enrollment.Redeem(cmd.Context(), code, key.Private, cfg.Site, cfg.Kiosk, now)
}

func fillEnrollOut(out *enrollOut, a protocol.EnrollAnswer, key *identity.Key, cfg config.Config) {
	out.Kiosk, out.Site, out.Broker, out.Username = a.Kiosk, a.Site, a.Broker, a.Username
	if pub, err := protocol.ParsePublicKeyText(a.DownlinkKey); err == nil {
		out.DownlinkKey = protocol.Fingerprint(pub)
	}
	if a.CA != "" {
		if ca, err := enrollment.ParseCA(a.CA); err == nil {
			out.CA = enrollment.Fingerprint(ca)
		}
	}
	out.KioskKey = key.Fingerprint()
	out.File = enrollment.Path(cfg.DataDir)
}

func printEnrollOut(w io.Writer, out enrollOut) {
	verb := "enrolled"
	if out.Replaced {
		verb = "enrolled again (the earlier enrollment was replaced)"
	}
	fmt.Fprintf(w, "%s: kiosk %s of site %s, by %s\n", verb, out.Kiosk, out.Site, out.Via)
	fmt.Fprintf(w, "broker:        %s (login %s)\n", out.Broker, out.Username)
	fmt.Fprintf(w, "downlink key:  %s (the hub's; downlinks signed by any other are refused)\n", out.DownlinkKey)
	if out.CA != "" {
		fmt.Fprintf(w, "CA:            %s (the broker's certificate must chain to it)\n", out.CA)
	} else {
		fmt.Fprintln(w, "CA:            none (a loopback-only hub: the broker is reached without TLS)")
	}
	fmt.Fprintf(w, "kiosk key:     %s\nsaved in:      %s (0600)\n", out.KioskKey, out.File)
	if out.Forgotten > 0 {
		fmt.Fprintf(w, "forgot %d downlinks stored before, unchecked by this hub key; the hub's signed ones come on the next connect\n", out.Forgotten)
	}
	fmt.Fprintln(w, "restart the kiosk (kiosk run) for it to log in with this enrollment")
}
