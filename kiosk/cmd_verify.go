package main

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatepost/gatepost/kiosk/checkpoint"
	"github.com/gatepost/gatepost/kiosk/gate"
	"github.com/gatepost/gatepost/kiosk/passcheck"
)

// verifyReport is what `kiosk verify --json` prints.
type verifyReport struct {
	Verdict     passcheck.Verdict `json:"verdict"`
	Decision    string            `json:"decision"`
	Alert       bool              `json:"alert"`
	Reasons     []string          `json:"reasons"`
	Say         string            `json:"say"`
	Detail      string            `json:"detail,omitempty"`
	Pass        any               `json:"pass,omitempty"`
	Status      any               `json:"status,omitempty"`
	Stale       bool              `json:"status_list_stale"`
	ListVersion uint64            `json:"status_list_version"`
}

func newVerifyCmd(now func() time.Time) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "verify TEXT",
		Short: "Check a scanned pass text offline with the stored keys and status list, and print the verdict",
		Long: "Checks TEXT as the gate would: signature, key, site, dates and the status list, with no network.\n" +
			"Exits 0 for a valid pass, 1 otherwise.",
		Args:          cobra.ExactArgs(1),
		SilenceUsage:  true, // a pass that is not valid is not a usage mistake
		SilenceErrors: true, // main prints the error
	}
	conf := addConfigFlag(cmd, "configuration file (site, data_dir, [passes])")
	asJSON := addJSONFlag(cmd)
	asJSON.rawHTML = true
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		cfg, err := conf.load()
		if err != nil {
			return err
		}
		// Beside a running kiosk: its journal holds the newest keys and
		// list from the hub; without one, the files in passes_dir.
		j, err := openJournal(cfg, readOnly)
		if err == nil {
			defer j.Close()
		} else {
			j = nil
		}
		v := passcheck.New(cfg.Site, gate.NewPassSource(cfg, j), now,
			passcheck.Options{MaxAge: cfg.Passes.MaxAge.D(), Skew: cfg.Passes.ClockSkew.D()})
		res, srcErr := v.Verify(cmd.Context(), args[0])
		rules := checkpoint.Defaults()
		rules.Location = time.Local
		o := checkpoint.PassOutcome(res, rules)
		rep := verifyReport{Verdict: res.Verdict, Decision: string(o.Decision), Alert: o.Alert, Reasons: o.Reasons,
			Say: o.Say.String(), Detail: res.Detail, Stale: res.Stale, ListVersion: res.ListVersion}
		if res.Pass != nil {
			rep.Pass = res.Pass
		}
		if res.Status != nil {
			rep.Status = res.Status
		}
		out := cmd.OutOrStdout()
		if srcErr != nil {
			fmt.Fprintf(cmd.ErrOrStderr(), "warning: %v\n", srcErr)
		}
		err = asJSON.print(out, rep, func(out io.Writer) error {
			fmt.Fprintf(out, "verdict    %s\ndecision   %s (alert: %v)\nreasons    %v\nguard sees %s\n", res.Verdict, o.Decision, o.Alert, o.Reasons, o.Say)
			if p := res.Pass; p != nil {
				trust := ""
				if !res.Trusted() {
					trust = "  (NOT trusted: the signature did not check out)"
				}
				fmt.Fprintf(out, "pass       %s %s %s %s, site %s, key %s, valid %s to %s%s\n", p.ID, p.Kind, p.Unit, p.Name,
					p.Site, p.Key, p.ValidFrom.Local().Format(time.DateTime), p.ValidUntil.Local().Format(time.DateTime), trust)
			}
			if res.Detail != "" {
				fmt.Fprintf(out, "detail     %s\n", res.Detail)
			}
			fmt.Fprintf(out, "keys/list  from the hub or %s, status list version %d, stale %v\n", cfg.PassesDir(), res.ListVersion, res.Stale)
			return nil
		})
		if err != nil {
			return err
		}
		if res.Verdict != passcheck.Valid {
			return fmt.Errorf("not a valid pass: %s", res.Verdict)
		}
		return nil
	}
	return cmd
}
