package main

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatepost/gatepost/hub/records"
)

func newKiosksCommand(data *hubData, stdout io.Writer) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "kiosks",
		Short: "Print the fleet: each kiosk's link, sync position, missing ranges, clock skew and versions",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return data.withRecords(cmd, true, func(store *records.SQLite) error {
				fleet, err := store.Fleet(cmd.Context())
				if err != nil {
					return err
				}
				return listing{json: asJSON}.print(stdout, fleet, func(tw io.Writer) { fleetTable(tw, fleet) })
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON, as the console's /ops/api/kiosks does")
	return cmd
}

func fleetTable(tw io.Writer, fleet []records.FleetKiosk) {
	fmt.Fprintln(tw, "KIOSK\tSITE\tONLINE\tCONTIGUOUS\tMISSING\tLAST SEEN")
	for _, k := range fleet {
		seen := "never (no live batch yet)"
		if !k.LastSeen.IsZero() {
			seen = k.LastSeen.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%v\t%d\t%d ranges\t%s\n", k.Kiosk.Kiosk, k.Site, k.Online, k.Contiguous, len(k.Gaps), seen)
	}
}
