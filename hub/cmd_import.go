package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/gatepost/gatepost/hub/records"
	"github.com/gatepost/gatepost/hub/registry"
	"github.com/gatepost/gatepost/protocol"
)

func newImportCommand(data *hubData, stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "import FILE",
		Short: "Store the entries of a `kiosk export` bundle (idempotent: importing twice changes nothing)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := readBundle(args[0])
			if err != nil {
				return err
			}
			if err := data.withRegistry(cmd, func(reg *registry.Store) error {
				return verifyBundle(cmd, reg, args[0], b)
			}); err != nil {
				return err
			}
			// Safe beside a running hub: SQLite serialises the writers.
			return data.withRecords(cmd, true, func(store *records.SQLite) error {
				return importBundle(cmd, store, args[0], b, stdout)
			})
		},
	}
}

func readBundle(path string) (protocol.Bundle, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return protocol.Bundle{}, err
	}
	b, err := protocol.DecodeBundle(data)
	if errors.Is(err, protocol.ErrInvalid) {
		return b, fmt.Errorf("%s is not a usable bundle, nothing imported: %w", path, err)
	}
	return b, err
}

// verifyBundle refuses a bundle whose signature does not verify against
// the key its kiosk enrolled with: one edited after export (its checksum
// recomputed or not), unsigned, or not made by that kiosk. Nothing of it
// is imported.
func verifyBundle(cmd *cobra.Command, reg *registry.Store, path string, b protocol.Bundle) error {
	k, err := reg.Get(cmd.Context(), b.Kiosk)
	if err != nil && !errors.Is(err, registry.ErrUnknown) {
		return err
	}
	if err != nil || k.PublicKey == nil {
		return fmt.Errorf("%s was refused, nothing imported: kiosk %s is not enrolled at this hub, so the bundle's signature "+
			"cannot be checked; enroll the kiosk (hub kiosks enroll) and export again", path, b.Kiosk)
	}
	fp := protocol.Fingerprint(k.PublicKey)
	if k.Site != b.Site {
		return fmt.Errorf("%s was refused, nothing imported: the bundle names site %s, but kiosk %s (key %s) is enrolled at %s",
			path, b.Site, b.Kiosk, fp, k.Site)
	}
	if b.Sig == "" {
		return fmt.Errorf("%s was refused, nothing imported: the bundle carries no signature, so it cannot be shown to come "+
			"unedited from kiosk %s (enrolled key %s); export again with a kiosk of this version", path, b.Kiosk, fp)
	}
	if err := protocol.VerifyBundle(k.PublicKey, b); err != nil {
		return fmt.Errorf("%s was refused, nothing imported: the signature does not verify against kiosk %s's enrolled key %s: "+
			"the file was edited after export, or was not made by that kiosk; export again from the kiosk and keep the file "+
			"in your hands (%w)", path, b.Kiosk, fp, err)
	}
	return nil
}

func importBundle(cmd *cobra.Command, store *records.SQLite, path string, b protocol.Bundle, stdout io.Writer) error {
	saved, err := store.ImportBundle(cmd.Context(), b)
	if errors.Is(err, records.ErrOtherJournal) {
		return fmt.Errorf("%s was refused, nothing imported: %w", path, err)
	}
	if err != nil {
		return err
	}
	gaps, err := store.Gaps(cmd.Context(), b.Kiosk)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "imported kiosk %s seq %d..%d: %d new, %d already held, %d conflicting; hub holds 1..%d contiguously, missing %v\n",
		b.Kiosk, b.From, b.To, saved.Inserted, saved.Duplicates, saved.Conflicts, saved.Contiguous, gaps)
	if saved.Conflicts > 0 {
		return fmt.Errorf("security: %d entries differ from those the hub holds (seqs %v); the held entries were kept", saved.Conflicts, saved.ConflictSeqs)
	}
	return nil
}
