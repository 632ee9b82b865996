package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/gatepost/gatepost/kiosk/identity"
	"github.com/gatepost/gatepost/kiosk/journal"
	"github.com/gatepost/gatepost/protocol"
	"github.com/spf13/cobra"
)

func newExportCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write every unsynced entry (or all from --from) to a compressed bundle for `hub import` (when the link is dead for long)",
		Long: `Writes every entry the hub has not acknowledged to FILE: gzipped JSON naming
the kiosk and the sequence range, with a SHA-256 of the entries, signed with
the kiosk's key (hub import refuses a bundle edited after export). Carry it to
the hub and run "hub import FILE". Safe while the kiosk runs; nothing in the
journal changes: the entries count as synced when the hub next acknowledges
them over MQTT. Importing the same bundle twice changes nothing.

With --from N it writes the entries from sequence N on, those the hub
acknowledged included, as long as the journal still holds them (retention
deletes synced entries after retention.max_age): for a hub restored from
an older backup, which lost entries it had acknowledged, at a site whose
link is down (online, the kiosk finds the loss and sends them again by
itself). "hub kiosks" shows where the hub's contiguous run ends.`,
		Args: cobra.NoArgs,
	}
	conf := addConfigFlag(cmd, "")
	cmd.Flags().StringVar(&out, "out", "", "bundle file to write (e.g. a USB stick)")
	var from uint64
	cmd.Flags().Uint64Var(&from, "from", 0, "write the entries from this sequence on, those the hub acknowledged included "+
		"(left out: the unsynced ones)")
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
			after, fromGiven := acked, cmd.Flags().Changed("from")
			if fromGiven {
				if from == 0 {
					return errors.New("--from counts from 1, the kiosk's first entry")
				}
				after = from - 1
			}
			entries, err := j.Unsent(ctx, after, 1<<31-1)
			if err != nil {
				return err
			}
			switch {
			case len(entries) == 0 && fromGiven:
				return fmt.Errorf("nothing to export: the journal holds no entry from %d on", from)
			case len(entries) == 0:
				return errors.New("nothing to export: the hub holds every entry of this kiosk")
			case fromGiven && entries[0].Seq != from:
				fmt.Fprintf(cmd.ErrOrStderr(), "warning: entries %d..%d are no longer in the journal (retention deletes synced "+
					"entries after retention.max_age); the bundle starts at %d\n", from, entries[0].Seq-1, entries[0].Seq)
			}
			b := protocol.Bundle{Kiosk: j.Kiosk(), Site: cfg.Site, Journal: j.ID(), Exported: time.Now(), Entries: entries}
			if err := signBundle(ctx, cmd, cfg.DataDir, j, after, &b); err != nil {
				return fmt.Errorf("export: %w", err)
			}
			data, err := protocol.EncodeBundle(b)
			if err != nil {
				return fmt.Errorf("export: %w", err)
			}
			if err := writeFileSync(out, data); err != nil {
				return fmt.Errorf("export: %w", err)
			}
			written, _ := protocol.DecodeBundle(data) // for the sum printed
			signed := "signed with key " + keyFingerprint(cfg.DataDir)
			if written.Sig == "" {
				signed = "unsigned"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "exported %d entries of kiosk %s (seq %d..%d, sha256 %s, %s) to %s (%d bytes)\n",
				len(entries), written.Kiosk, written.From, written.To, written.SHA256, signed, out, len(data))
			return nil
		})
	}
	return cmd
}

// signBundle signs b with the kiosk's key, over the chain hashes the
// journal stored for its entries (those after acked). A kiosk with no key
// yet writes the bundle unsigned and says so: hub import refuses it, but
// the entries stay in the journal.
func signBundle(ctx context.Context, cmd *cobra.Command, dataDir string, j *journal.Journal, acked uint64, b *protocol.Bundle) error {
	key, err := identity.Load(dataDir)
	if errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintln(cmd.ErrOrStderr(), "warning: this kiosk has no key (kiosk identity), so the bundle is unsigned and hub import "+
			"will refuse it; enroll the kiosk (kiosk enroll) and export again")
		return nil
	}
	if err != nil {
		return err
	}
	stored, err := j.UnsentEncoded(ctx, acked, len(b.Entries))
	if err != nil {
		return err
	}
	if len(stored) != len(b.Entries) {
		return fmt.Errorf("the journal changed while it was read (%d entries, then %d): export again", len(b.Entries), len(stored))
	}
	links := make([]protocol.ChainLink, len(stored))
	for i, e := range stored {
		if e.Seq != b.Entries[i].Seq {
			return fmt.Errorf("the journal changed while it was read (entry %d, then %d): export again", b.Entries[i].Seq, e.Seq)
		}
		if links[i], err = e.Link(); err != nil {
			return fmt.Errorf("stored entry %d is damaged: %w", e.Seq, err)
		}
	}
	b.Sig = protocol.SignChain(key.Private, b.Kiosk, b.Site, b.Journal, links)
	return nil
}

// keyFingerprint is the fingerprint of the kiosk's key, for people.
func keyFingerprint(dataDir string) string {
	key, err := identity.Load(dataDir)
	if err != nil {
		return "(unreadable)"
	}
	return key.Fingerprint()
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
