package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

func newKiosksCommand(stdout io.Writer) *cobra.Command {
	var dataDir string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "kiosks",
		Short: "Print the fleet: each kiosk's link, sync position, missing ranges, clock skew and versions",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path := filepath.Join(dataDir, "hub.db")
			if _, err := os.Stat(path); err != nil {
				return fmt.Errorf("no hub data in %s: %w", dataDir, err)
			}
			store, err := openRecords(cmd, path)
			if err != nil {
				return err
			}
			defer store.Close()
			fleet, err := store.Fleet(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(fleet)
			}
			tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "KIOSK\tSITE\tONLINE\tCONTIGUOUS\tMISSING\tLAST SEEN")
			for _, k := range fleet {
				seen := "never (no live batch yet)"
				if !k.LastSeen.IsZero() {
					seen = k.LastSeen.Format(time.RFC3339)
				}
				fmt.Fprintf(tw, "%s\t%s\t%v\t%d\t%d ranges\t%s\n", k.Kiosk.Kiosk, k.Site, k.Online, k.Contiguous, len(k.Gaps), seen)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&dataDir, "data", defaultDataDir, "directory holding the hub's data (hub.db)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON, as the console's /ops/api/kiosks does")
	return cmd
}
