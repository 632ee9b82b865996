package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatepost/gatepost/hub/operators"
)

func newTokensCommand(data *hubData, stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tokens",
		Short: "Manage API tokens: read-only access to the console for scripts on other machines",
		Long: "A token acts for a console user, with that user's role, and only reads: CSV exports\n" +
			"(/ops/entries.csv, /ops/onemap.csv), /ops/api/entries, /ops/api/kiosks and the pages. Send it as\n" +
			"  Authorization: Bearer <token>\n" +
			"It is printed once when made; hub.db keeps only its SHA-256. Disabling the user\n" +
			"stops its tokens too.",
		Example: `  hub tokens add nightly-report --user li
  curl -H "Authorization: Bearer gpt_…" "http://hub:8081/ops/onemap.csv?site=huamu-1&day=2026-02-03"
  hub tokens revoke nightly-report`,
	}
	var user string
	var asJSON bool
	add := &cobra.Command{
		Use:   "add LABEL --user NAME",
		Short: "Make a token for a user's scripts; it is printed once",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if user == "" {
				return fmt.Errorf("--user is required: the console user the token acts for")
			}
			return data.withOperators(cmd, func(s *operators.Store) error {
				token, err := s.AddToken(cmd.Context(), args[0], user)
				if err != nil {
					return err
				}
				s.Audit(cmd.Context(), "(command line)", "token_add", args[0]+" user="+user)
				fmt.Fprintf(stdout, "token %s for %s (shown once, keep it secret):\n%s\n", args[0], user, token)
				return nil
			})
		},
	}
	add.Flags().StringVar(&user, "user", "", "the console user the token acts for")
	list := &cobra.Command{
		Use:   "list",
		Short: "List tokens (never the tokens themselves)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return data.withOperators(cmd, func(s *operators.Store) error {
				tokens, err := s.Tokens(cmd.Context())
				if err != nil {
					return err
				}
				return listing{json: asJSON}.print(stdout, tokens, func(tw io.Writer) { tokensTable(tw, tokens) })
			})
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	revoke := &cobra.Command{
		Use:   "revoke LABEL",
		Short: "Revoke a token at once",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return data.withOperators(cmd, func(s *operators.Store) error {
				if err := s.RevokeToken(cmd.Context(), args[0]); err != nil {
					return err
				}
				s.Audit(cmd.Context(), "(command line)", "token_revoke", args[0])
				fmt.Fprintf(stdout, "revoked %s\n", args[0])
				return nil
			})
		},
	}
	cmd.AddCommand(add, list, revoke)
	return cmd
}

func tokensTable(tw io.Writer, tokens []operators.APIToken) {
	fmt.Fprintln(tw, "LABEL\tUSER\tROLE\tREACH\tCREATED\tLAST USED")
	for _, t := range tokens {
		used := "never"
		if !t.LastUsed.IsZero() {
			used = t.LastUsed.Format(time.RFC3339)
		}
		role, reach := "operator", "all compounds"
		switch {
		case t.Admin:
			role = "admin"
		case t.Lead:
			role, reach = operators.RoleBuildingLead, strings.Join(t.Sites, ",")+" buildings "+strings.Join(t.Buildings, ",")
		case len(t.Sites) > 0:
			reach = strings.Join(t.Sites, ",")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.Label, t.User, role, reach, t.Created.Format(time.RFC3339), used)
	}
}
