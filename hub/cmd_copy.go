package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

func newCopyToPostgresCommand(data *hubData, stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "copy-to-postgres URL",
		Short: "Copy the hub's state from the data folder's hub.db into a new PostgreSQL database",
		Long: "For a hub that outgrows one machine (docs/scale.md): every store's rows, the kiosks' register,\n" +
			"the console's users, sessions and audit, alerts and settings, the passes and every entry with its\n" +
			"chain, copied from --data's hub.db into the PostgreSQL database at URL, in one transaction: all of\n" +
			"it or nothing. The schemas are made there; a database that holds hub data already is refused.\n" +
			"Stop the hub first: what it stores after the copy began stays behind in hub.db. hub.db is only\n" +
			"read. Then run `hub serve --database URL` with this data folder (its keys stay files there; copy\n" +
			"the folder to each replica), and `hub verify --database URL` to check the entries arrived intact.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if data.database != "" {
				return fmt.Errorf("copy-to-postgres reads the data folder's hub.db: leave out --database (and $GATEPOST_DATABASE); the target is the argument")
			}
			copied, err := data.dir(cmd).CopyToPostgres(cmd.Context(), args[0], stdout)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "copied %d rows of %d tables into PostgreSQL; start the hub with --database and run `hub verify --database`\n",
				copied.Rows, len(copied.Tables))
			return nil
		},
	}
}
