package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatepost/gatepost/hub/passes"
)

func newKeysCommand(data *hubData, stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Manage the keys that sign entry passes",
		Long: "The hub signs passes with an Ed25519 key. Private keys stay in <data>/keys (mode 0600):\n" +
			"back that folder up, and never copy it to a kiosk. Kiosks get the public keys.",
	}
	show := func(k passes.Key) {
		fmt.Fprintf(stdout, "key %s created %s\npublic key %s\n", k.ID, k.Created.Format(time.RFC3339), base64.StdEncoding.EncodeToString(k.Key))
	}
	// newKey is init and rotate: they differ in the store call and the hint.
	newKey := func(use, short string, make func(*passes.Store, context.Context) (passes.Key, error), hint string) *cobra.Command {
		return &cobra.Command{
			Use: use, Short: short, Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				return data.withPasses(cmd, func(s *passes.Store) error {
					k, err := make(s, cmd.Context())
					if err != nil {
						return err
					}
					show(k)
					if hint != "" {
						fmt.Fprintln(stdout, hint)
					}
					return nil
				})
			},
		}
	}
	cmd.AddCommand(
		newKey("init", "Create the first signing key", (*passes.Store).InitKey, ""),
		newKey("rotate", "Make a new signing key; the old one stays valid for the passes it signed until they expire",
			(*passes.Store).RotateKey, "new passes are signed with it; send kiosks the new key set (hub passes export-kiosk)"),
	)
	cmd.AddCommand(&cobra.Command{
		Use:   "withdraw ID",
		Short: "Take a retired key out of the key set because its private key leaked; its passes stop working (re-issue them)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return data.withPasses(cmd, func(s *passes.Store) error {
				if err := s.WithdrawKey(cmd.Context(), args[0]); err != nil {
					return err
				}
				fmt.Fprintf(stdout, "withdrew %s: send kiosks the new key set (hub passes export-kiosk) and re-issue its passes\n", args[0])
				return nil
			})
		},
	})
	var asJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List the signing keys",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return data.withPasses(cmd, func(s *passes.Store) error {
				keys, err := s.Keys(cmd.Context())
				if err != nil {
					return err
				}
				return listing{json: asJSON}.print(stdout, keys, func(tw io.Writer) { keysTable(tw, keys) })
			})
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.AddCommand(list)
	return cmd
}

func keysTable(tw io.Writer, keys []passes.Key) {
	fmt.Fprintln(tw, "KEY\tCREATED\tSTATE\tACCEPTED UNTIL\tPASSES")
	for _, k := range keys {
		state, until := "current", "-"
		if !k.Current {
			state = "retired " + k.Retired.Format("2006-01-02")
		}
		if k.Withdrawn != nil {
			state = "WITHDRAWN " + k.Withdrawn.Format("2006-01-02")
		}
		if k.NotAfter != nil {
			until = k.NotAfter.Format("2006-01-02")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\n", k.ID, k.Created.Format("2006-01-02"), state, until, k.Passes)
	}
}
