package main

import (
	"fmt"
	"io"

	"github.com/skip2/go-qrcode"
	"github.com/spf13/cobra"

	"github.com/gatepost/gatepost/kiosk/identity"
	"github.com/gatepost/gatepost/protocol"
)

// identityOut is what `kiosk identity --json` prints: what an installer
// carries to the hub for `hub kiosks add` (offline enrollment) or checks
// against `hub kiosks list`.
type identityOut struct {
	Kiosk       string `json:"kiosk"`
	Site        string `json:"site"`
	Fingerprint string `json:"fingerprint"`
	PublicKey   string `json:"public_key"`
	KeyFile     string `json:"key_file"`
	Created     bool   `json:"created"` // the key was made by this call
}

func newIdentityCmd() *cobra.Command {
	var qr bool
	cmd := &cobra.Command{
		Use:   "identity",
		Short: "Show this kiosk's id, site and key fingerprint (the key is made on first use and never leaves the kiosk)",
	}
	conf := addConfigFlag(cmd, "")
	asJSON := addJSONFlag(cmd)
	cmd.Flags().BoolVar(&qr, "qr", false, "also draw the public key as a QR code in the terminal, for the installer to photograph")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		cfg, err := conf.load()
		if err != nil {
			return err
		}
		key, created, err := identity.LoadOrCreate(cfg.DataDir)
		if err != nil {
			return err
		}
		out := identityOut{Kiosk: cfg.Kiosk, Site: cfg.Site, Fingerprint: key.Fingerprint(),
			PublicKey: protocol.PublicKeyText(key.Public), KeyFile: key.Path, Created: created}
		return asJSON.print(cmd.OutOrStdout(), out, func(w io.Writer) error {
			fmt.Fprintf(w, "kiosk:        %s\nsite:         %s\nfingerprint:  %s\npublic key:   %s\nkey file:     %s\n",
				out.Kiosk, out.Site, out.Fingerprint, out.PublicKey, out.KeyFile)
			if created {
				fmt.Fprintln(w, "(a new key was made just now)")
			}
			if !qr {
				return nil
			}
			code, err := qrcode.New(fmt.Sprintf("%s %s %s", out.Site, out.Kiosk, out.PublicKey), qrcode.Medium)
			if err != nil {
				return err
			}
			_, err = io.WriteString(w, code.ToSmallString(false))
			return err
		})
	}
	return cmd
}
