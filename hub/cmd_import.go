package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/gatepost/gatepost/hub/records"
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
