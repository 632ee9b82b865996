package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/spf13/cobra"

	"github.com/gatepost/gatepost/hub/records"
)

func newEntriesCommand(stdout io.Writer) *cobra.Command {
	var dataDir, kiosk string
	var asJSON bool
	var limit int
	cmd := &cobra.Command{
		Use:   "entries",
		Short: "Print stored entries, ordered by kiosk then sequence",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if limit < 0 {
				return fmt.Errorf("--limit must be 0 (all) or more, got %d", limit)
			}
			path := filepath.Join(dataDir, "hub.db")
			// Do not create an empty database where the user mistyped a path.
			if _, err := os.Stat(path); err != nil {
				return fmt.Errorf("no hub data in %s: %w", dataDir, err)
			}
			store, err := openRecords(cmd, path)
			if err != nil {
				return err
			}
			defer store.Close()
			list, err := store.Entries(cmd.Context(), records.Query{Kiosk: kiosk, Limit: limit})
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(stdout)
				enc.SetEscapeHTML(false)
				enc.SetIndent("", "  ")
				return enc.Encode(list)
			}
			return printTable(stdout, list)
		},
	}
	f := cmd.Flags()
	f.StringVar(&dataDir, "data", defaultDataDir, "directory holding the hub's data (hub.db)")
	f.StringVar(&kiosk, "kiosk", "", "only this kiosk's entries")
	f.IntVar(&limit, "limit", 0, "print at most this many entries (0: all)")
	f.BoolVar(&asJSON, "json", false, "print a JSON array: each entry's fields plus site and received")
	return cmd
}

func printTable(w io.Writer, list []records.Stored) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
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
	return tw.Flush()
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
