package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatepost/gatepost/hub/operators"
	"github.com/gatepost/gatepost/hub/records"
)

func newPurgeCommand(data *hubData, stdout io.Writer) *cobra.Command {
	var dryRun bool
	var set []string
	cmd := &cobra.Command{
		Use:   "purge",
		Short: "Remove personal details past their retention (--dry-run shows what would go)",
		Long: "Visitors' names, phones, origins and purposes, and residents' scanned pass text, are removed\n" +
			"from entries received longer ago than the retention of their kind (default 28 days). The entries\n" +
			"themselves stay: the one map's counts and the kiosks' sequence numbers need them. A running hub\n" +
			"purges hourly by itself. --set visitor=14 changes a retention and is remembered in hub.db.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return data.withOperators(cmd, func(ops *operators.Store) error {
				retention, err := setRetentions(cmd, ops, set)
				if err != nil {
					return err
				}
				return data.withRecords(cmd, false, func(store *records.SQLite) error {
					return purge(cmd, ops, store, retention, data.clock.Now(), dryRun, stdout)
				})
			})
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "count what would be purged and change nothing")
	cmd.Flags().StringArrayVar(&set, "set", nil, "set a retention in days, e.g. visitor=14 (repeatable)")
	return cmd
}

// setRetentions stores the --set changes, audited, and returns the
// retentions then in force.
func setRetentions(cmd *cobra.Command, ops *operators.Store, set []string) (map[string]int, error) {
	changes := map[string]int{}
	for _, kv := range set {
		kind, days, ok := strings.Cut(kv, "=")
		n, err := strconv.Atoi(days)
		if !ok || err != nil {
			return nil, fmt.Errorf("--set must look like visitor=28, got %q", kv)
		}
		changes[kind] = n
	}
	if len(changes) > 0 {
		if err := ops.SetRetentions(cmd.Context(), changes); err != nil {
			return nil, err
		}
		for _, kv := range set {
			ops.Audit(cmd.Context(), "(command line)", "retention_set", kv)
		}
	}
	return ops.Retention(cmd.Context())
}

func purge(cmd *cobra.Command, ops *operators.Store, store *records.SQLite, retention map[string]int, now time.Time, dryRun bool, stdout io.Writer) error {
	verb := "purged"
	if dryRun {
		verb = "would purge"
	}
	purged, err := operators.PurgeByRetention(cmd.Context(), store, retention, now, dryRun)
	for _, p := range purged {
		fmt.Fprintf(stdout, "%s %s: %d entries older than %d days\n", verb, p.Kind, p.Entries, p.Days)
		if !dryRun {
			ops.Audit(cmd.Context(), "(command line)", "purge", fmt.Sprintf("%s: %d", p.Kind, p.Entries))
		}
	}
	return err
}
