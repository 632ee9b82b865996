package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/spf13/cobra"

	"github.com/gatepost/gatepost/hub/records"
)

func newEntriesCommand(data *hubData, stdout io.Writer) *cobra.Command {
	var q records.Query
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "entries",
		Short: "Print stored entries, ordered by kiosk then sequence",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if q.Limit < 0 {
				return fmt.Errorf("--limit must be 0 (all) or more, got %d", q.Limit)
			}
			return data.withRecords(cmd, true, func(store *records.SQLite) error {
				list, err := store.Entries(cmd.Context(), q)
				if err != nil {
					return err
				}
				return listing{json: asJSON, rawText: true}.print(stdout, list, func(tw io.Writer) { entriesTable(tw, list) })
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&q.Kiosk, "kiosk", "", "only this kiosk's entries")
	f.IntVar(&q.Limit, "limit", 0, "print at most this many entries (0: all)")
	f.BoolVar(&asJSON, "json", false, "print a JSON array: each entry's fields plus site and received")
	return cmd
}

func entriesTable(tw io.Writer, list []records.Stored) {
	fmt.Fprintln(tw, "KIOSK\tSEQ\tSITE\tKIOSK TIME\tKIND\tDECISION\tSCREENED\tSCAN\tRECEIVED")
	for _, e := range list {
		screened := "-"
		if e.Temperature != nil {
			screened = fmt.Sprintf("%.1f", e.Temperature.ScreenedC)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			e.Kiosk, e.Seq, e.Site, e.Time.Format(time.RFC3339), e.Kind, e.Decision,
			screened, printable(e.Scan), e.Received.Format(time.RFC3339))
	}
}

// printable returns s, quoted if it holds control characters: a scanned
// code must not break the table or send escape sequences to the terminal.
func printable(s string) string {
	switch {
	case s == "":
		return "-"
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return strconv.Quote(s)
	}
	return s
}
