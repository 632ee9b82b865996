package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/gatepost/gatepost/hub/records"
	"github.com/gatepost/gatepost/protocol"
)

func newImportCommand(stdout io.Writer) *cobra.Command {
	var dataDir string
	cmd := &cobra.Command{
		Use:   "import FILE",
		Short: "Store the entries of a `kiosk export` bundle (idempotent: importing twice changes nothing)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			b, err := protocol.DecodeBundle(data)
			if err != nil {
				if errors.Is(err, protocol.ErrInvalid) {
					return fmt.Errorf("%s is not a usable bundle, nothing imported: %w", args[0], err)
				}
				return err
			}
			path := filepath.Join(dataDir, "hub.db")
			if _, err := os.Stat(path); err != nil {
				return fmt.Errorf("no hub data in %s: %w", dataDir, err)
			}
			// Safe beside a running hub: SQLite serialises the writers.
			store, err := openRecords(cmd, path)
			if err != nil {
				return err
			}
			defer store.Close()
			saved, err := store.ImportBundle(cmd.Context(), b)
			if errors.Is(err, records.ErrOtherJournal) {
				return fmt.Errorf("%s was refused, nothing imported: %w", args[0], err)
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
		},
	}
	cmd.Flags().StringVar(&dataDir, "data", defaultDataDir, "directory of the hub's data (hub.db)")
	return cmd
}
