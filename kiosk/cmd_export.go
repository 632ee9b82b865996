package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/gatepost/gatepost/kiosk/journal"
	"github.com/gatepost/gatepost/protocol"
	"github.com/spf13/cobra"
)

func newExportCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write every unsynced entry to a compressed bundle for `hub import` (when the link is dead for long)",
		Long: `Writes every entry the hub has not acknowledged to FILE: gzipped JSON naming
the kiosk and the sequence range, with a SHA-256 of the entries. Carry it to
the hub and run "hub import FILE". Safe while the kiosk runs; nothing in the
journal changes: the entries count as synced when the hub next acknowledges
them over MQTT. Importing the same bundle twice changes nothing.`,
		Args: cobra.NoArgs,
	}
	conf := addConfigFlag(cmd, "")
	cmd.Flags().StringVar(&out, "out", "", "bundle file to write (e.g. a USB stick)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if out == "" {
			return errors.New("--out FILE is required")
		}
		cfg, err := conf.load()
		if err != nil {
			return err
		}
		return withJournal(cfg, readOnly, func(j *journal.Journal) error {
			ctx := context.Background()
			acked, err := j.Acked(ctx)
			if err != nil {
				return err
			}
			entries, err := j.Unsent(ctx, acked, 1<<31-1)
			if err != nil {
				return err
			}
			if len(entries) == 0 {
				return errors.New("nothing to export: the hub holds every entry of this kiosk")
			}
			data, err := protocol.EncodeBundle(protocol.Bundle{Kiosk: j.Kiosk(), Site: cfg.Site, Journal: j.ID(),
				Exported: time.Now(), Entries: entries})
			if err != nil {
				return fmt.Errorf("export: %w", err)
			}
			if err := writeFileSync(out, data); err != nil {
				return fmt.Errorf("export: %w", err)
			}
			b, _ := protocol.DecodeBundle(data) // for the sum printed
			fmt.Fprintf(cmd.OutOrStdout(), "exported %d entries of kiosk %s (seq %d..%d, sha256 %s) to %s (%d bytes)\n",
				len(entries), b.Kiosk, b.From, b.To, b.SHA256, out, len(data))
			return nil
		})
	}
	return cmd
}

// writeFileSync writes data to a temporary file beside path, syncs it and
// renames it into place, so a half-written bundle never carries the name.
func writeFileSync(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".export-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
