package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatepost/gatepost/internal/backup"
)

func newBackupCmd(now func() time.Time) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "backup --out FILE",
		Short: "Copy the kiosk's data folder into one file while the kiosk runs (journal, key, enrollment: keep it safe)",
		Long: "The journal is copied from one snapshot with SQLite's VACUUM INTO while the gate goes on\n" +
			"journaling; the kiosk key, the enrollment and the rest are copied as they are. The file is 0600:\n" +
			"it holds the kiosk's key and broker login. Restore it with `kiosk restore --config kiosk.toml FILE`\n" +
			"into an empty data_dir (a new card, a replaced board).",
		Args: cobra.NoArgs,
	}
	conf := addConfigFlag(cmd, "")
	out := cmd.Flags().String("out", "", "the backup file to write (0600)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if *out == "" {
			return fmt.Errorf("--out is required: the file to write the backup to")
		}
		cfg, err := conf.load()
		if err != nil {
			return err
		}
		sum, err := backup.Write(cmd.Context(), cfg.DataDir, *out, now())
		if err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "backed up %s to %s: %d databases, %d other files, %d bytes before compression\n",
			cfg.DataDir, *out, len(sum.Databases), len(sum.Files), sum.Bytes)
		return nil
	}
	return cmd
}

func newRestoreCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "restore --config kiosk.toml FILE",
		Short: "Unpack a backup into the configuration's data_dir, which must be empty, and check the journal",
		Args:  cobra.ExactArgs(1),
	}
	conf := addConfigFlag(cmd, "")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		cfg, err := conf.load()
		if err != nil {
			return err
		}
		sum, err := backup.Restore(cmd.Context(), args[0], cfg.DataDir)
		if err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "restored %s into %s: %d databases (each checked), %d other files\n",
			args[0], cfg.DataDir, len(sum.Databases), len(sum.Files))
		return nil
	}
	return cmd
}
