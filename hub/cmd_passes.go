package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatepost/gatepost/hub/passes"
)

func newPassesCommand(data *hubData, stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "passes",
		Short: "Issue, revoke, mark, list and print entry passes",
	}
	cmd.AddCommand(
		newPassesIssueCommand(data, stdout),
		newPassesRevokeCommand(data, stdout),
		newPassesStatusCommand(data, stdout),
		newPassesListCommand(data, stdout),
		newPassesPrintCommand(data, stdout),
		newPassesExportCommand(data, stdout),
	)
	return cmd
}

func newPassesIssueCommand(data *hubData, stdout io.Writer) *cobra.Command {
	var site, unit, name, kind, from, until, csvPath string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "issue",
		Short: "Issue one pass, or one per row of a CSV (columns: unit, name, and optionally kind, site, valid_from, valid_until)",
		Example: "  hub passes issue --site huamu-1 --unit 3-502 --name 王小明 --until 2026-06-30\n" +
			"  hub passes issue --site huamu-1 --csv households.csv --until 2026-06-30",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			form := passes.IssueForm{Kind: kind, Site: site, Unit: unit, Name: name, From: from, Until: until}
			def, err := form.Defaults(data.clock.Now(), passes.Zone)
			if err == nil && csvPath == "" {
				err = def.Check()
			}
			if fe, ok := passes.AsFieldError(err); ok {
				return fmt.Errorf("--%s: %s", fe.Field, fe.Msg)
			} else if err != nil {
				return err
			}
			return data.withPasses(cmd, func(s *passes.Store) error {
				list, err := issue(cmd.Context(), s, def, csvPath)
				if err != nil {
					return err
				}
				return printPasses(stdout, list, asJSON)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&site, "site", "", "the compound (site id) the pass opens")
	f.StringVar(&unit, "unit", "", "building-room, e.g. 3-502 (required for residents and tenants)")
	f.StringVar(&name, "name", "", "the holder's name; only a masked form (王*明) is stored and printed")
	f.StringVar(&kind, "kind", "resident", "resident, tenant, staff or volunteer")
	f.StringVar(&from, "from", "", "first valid day, 2006-01-02 (default today)")
	f.StringVar(&until, "until", "", "last valid day, 2006-01-02 (default six months from --from)")
	f.StringVar(&csvPath, "csv", "", "issue one pass per row of this CSV file")
	f.BoolVar(&asJSON, "json", false, "print JSON, tokens included")
	cmd.MarkFlagRequired("site")
	return cmd
}

// issue issues one pass, or one per row of the CSV file at csvPath with
// def for what a row leaves out.
func issue(ctx context.Context, s *passes.Store, def passes.Request, csvPath string) ([]passes.Pass, error) {
	if csvPath == "" {
		p, err := s.Issue(ctx, def)
		if err != nil {
			return nil, err
		}
		return []passes.Pass{p}, nil
	}
	f, err := os.Open(csvPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	list, err := s.IssueCSV(ctx, f, def, passes.Zone)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", csvPath, err)
	}
	return list, nil
}

func newPassesRevokeCommand(data *hubData, stdout io.Writer) *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke a pass for good (lost, moved out, copied); kiosks deny it and alert",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := passes.CheckReason(reason, true); err != nil {
				return fmt.Errorf("--%w", err)
			}
			return data.withPasses(cmd, func(s *passes.Store) error {
				if err := s.Revoke(cmd.Context(), args[0], reason); err != nil {
					return err
				}
				fmt.Fprintf(stdout, "revoked %s; send kiosks the new status list (hub passes export-kiosk)\n", args[0])
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "shown to the guard: short, no health details")
	cmd.MarkFlagRequired("reason")
	return cmd
}

func newPassesStatusCommand(data *hubData, stdout io.Writer) *cobra.Command {
	var home, clear bool
	var until, reason string
	cmd := &cobra.Command{
		Use:   "status ID",
		Short: "Mark a pass's holder under home observation until a date (kiosks deny exit and alert), or --clear",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if home == clear {
				return errors.New("give exactly one of --home-observation (with --until) or --clear")
			}
			return data.withPasses(cmd, func(s *passes.Store) error {
				if clear {
					if err := s.ClearStatus(cmd.Context(), args[0]); err != nil {
						return err
					}
					fmt.Fprintf(stdout, "%s is in good standing again\n", args[0])
					return nil
				}
				if err := passes.CheckReason(reason, false); err != nil {
					return fmt.Errorf("--%w", err)
				}
				end, err := passes.ObservationEnd(until, data.clock.Now(), passes.Zone)
				if err != nil {
					return fmt.Errorf("--home-observation: --%w", err)
				}
				if err := s.HomeObservation(cmd.Context(), args[0], end, reason); err != nil {
					return err
				}
				fmt.Fprintf(stdout, "%s under home observation through %s\n", args[0], until)
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.BoolVar(&home, "home-observation", false, "mark home observation")
	f.StringVar(&until, "until", "", "last day of home observation, 2006-01-02")
	f.StringVar(&reason, "reason", "", "optional note for the guard: no health details")
	f.BoolVar(&clear, "clear", false, "put the pass back in good standing")
	return cmd
}

func newPassesListCommand(data *hubData, stdout io.Writer) *cobra.Command {
	var site string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List passes by site and unit",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return data.withPasses(cmd, func(s *passes.Store) error {
				list, err := s.List(cmd.Context(), passes.Filter{Site: site})
				if err != nil {
					return err
				}
				return printPasses(stdout, list, asJSON)
			})
		},
	}
	cmd.Flags().StringVar(&site, "site", "", "only this site's passes")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON, tokens included")
	return cmd
}

func printPasses(w io.Writer, list []passes.Pass, asJSON bool) error {
	if list == nil {
		list = []passes.Pass{} // JSON: [] rather than null
	}
	return listing{json: asJSON, rawText: true}.print(w, list, func(tw io.Writer) { passesTable(tw, list) })
}

func passesTable(tw io.Writer, list []passes.Pass) {
	fmt.Fprintln(tw, "ID\tSITE\tUNIT\tNAME\tKIND\tVALID UNTIL\tKEY\tSTATUS")
	for _, p := range list {
		status := "-"
		if p.Status != "" {
			status = string(p.Status)
			if p.StatusUntil != nil {
				status += " until " + p.StatusUntil.Local().Add(-time.Second).Format("2006-01-02")
			}
			if p.Reason != "" {
				status += " (" + printable(p.Reason) + ")"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p.ID, p.Site, printable(p.Unit), printable(p.Name), p.Kind,
			p.ValidUntil.Local().Add(-time.Second).Format("2006-01-02"), p.Key, status)
	}
}

func newPassesPrintCommand(data *hubData, stdout io.Writer) *cobra.Command {
	var site, out string
	cmd := &cobra.Command{
		Use:   "print [ID...]",
		Short: "Write a PNG per pass and sheet.html, an A4 sheet of cards to print (all passes of --site, or the IDs given)",
		RunE: func(cmd *cobra.Command, args []string) error {
			if site == "" && len(args) == 0 {
				return errors.New("name passes by ID, or give --site for all of a site's passes")
			}
			return data.withPasses(cmd, func(s *passes.Store) error {
				list, err := s.List(cmd.Context(), passes.Filter{Site: site, IDs: args})
				if err != nil {
					return err
				}
				if err := passes.WritePrintout(out, list, passes.Zone); err != nil {
					return err
				}
				fmt.Fprintf(stdout, "wrote %d passes to %s: open %s in a browser and print at 100%% on A4\n",
					len(list), out, filepath.Join(out, "sheet.html"))
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&site, "site", "", "print every pass of this site")
	cmd.Flags().StringVar(&out, "out", "passes-print", "folder to write the images and the sheet into")
	return cmd
}

func newPassesExportCommand(data *hubData, stdout io.Writer) *cobra.Command {
	var site, out string
	cmd := &cobra.Command{
		Use:   "export-kiosk",
		Short: "Write keys.json and status-list.json for a site's kiosks (their data_dir), until the downlink carries them",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return data.withPasses(cmd, func(s *passes.Store) error {
				ks, sl, err := s.ExportKiosk(cmd.Context(), site, out)
				if err != nil {
					return err
				}
				fmt.Fprintf(stdout, "wrote %s (key set version %d, %d keys) and %s (status list version %d, %d entries) to %s\n",
					passes.KeysFile, ks.Version, len(ks.Keys), passes.StatusListFile, sl.Version, len(sl.Entries), out)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&site, "site", "", "the site whose status list to write")
	cmd.Flags().StringVar(&out, "out", "", "the folder to write into (a kiosk's data_dir)")
	cmd.MarkFlagRequired("site")
	cmd.MarkFlagRequired("out")
	return cmd
}
