package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/gatepost/gatepost/internal/backup"
)

func newBackupCommand(data *hubData, stdout io.Writer) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "backup --out FILE",
		Short: "Copy the hub's data folder into one file while the hub runs (consistent, keys included: keep it safe)",
		Long: "The database, hub.db (every store's tables), is copied from one snapshot with SQLite's\n" +
			"VACUUM INTO while `hub serve` goes on storing; the keys (downlink.key, broker-login, the pass\n" +
			"keys), the TLS files and the rest are copied as they are. The old files kept from the merge into\n" +
			"hub.db (console.db.merged and the others) are left out: their data is in hub.db. The file is 0600:\n" +
			"it holds the hub's secrets. Restore it with `hub restore --data NEW-FOLDER FILE`.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return fmt.Errorf("--out is required: the file to write the backup to")
			}
			sum, err := backup.Write(cmd.Context(), data.path, out, data.clock.Now())
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "backed up %s to %s: %d databases, %d other files, %d bytes before compression\n",
				data.path, out, len(sum.Databases), len(sum.Files), sum.Bytes)
			if data.database != "" {
				fmt.Fprintf(stdout, "NOTE: the hub's state (entries, users, passes, kiosks) is in PostgreSQL (--database), not in this file:\n"+
					"it holds the data folder's keys, secrets and TLS files. Back the database up with PostgreSQL's own tools\n"+
					"(pg_dump, or pgBackRest: docs/scale.md, Deployment).\n")
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "the backup file to write (0600)")
	return cmd
}

func newRestoreCommand(data *hubData, stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "restore --data NEW-FOLDER FILE",
		Short: "Unpack a backup into a new, empty data folder and check every database",
		Long: "A backup made before the hub kept every store in hub.db holds console.db, passes.db and\n" +
			"kiosks.db beside it: they are restored as they are, and merged into hub.db when the hub first\n" +
			"opens the folder (each kept as name.merged).",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sum, err := backup.Restore(cmd.Context(), args[0], data.path)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "restored %s into %s: %d databases (each checked), %d other files\n"+
				"start the hub on it: hub serve --data %s\n", args[0], data.path, len(sum.Databases), len(sum.Files), data.path)
			return nil
		},
	}
}
