package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatepost/gatepost/hub/operators"
	"github.com/gatepost/gatepost/hub/records"
	"github.com/gatepost/gatepost/hub/registry"
)

func newKiosksCommand(data *hubData, stdout io.Writer) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "kiosks",
		Short: "Print the fleet (each kiosk's link, sync position, missing ranges, clock skew and versions); enroll, list and retire kiosks",
		Long: "With no subcommand, prints the fleet as the hub has heard from it (hub.db).\n" +
			"The subcommands manage the kiosk register (in hub.db): who may connect to the broker.",
		Example: `  hub kiosks enroll --site huamu-1 --kiosk gate-1
  hub kiosks add --site huamu-1 --kiosk gate-2 --public-key ed25519:… --out gate-2.enroll
  hub kiosks list
  hub kiosks retire gate-1
  hub kiosks transition --site huamu-1 --until 2027-01-31T00:00:00Z`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return data.withRecords(cmd, true, func(store *records.SQLite) error {
				fleet, err := store.Fleet(cmd.Context())
				if err != nil {
					return err
				}
				return listing{json: asJSON}.print(stdout, fleet, func(tw io.Writer) { fleetTable(tw, fleet) })
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON, as the console's /ops/api/kiosks does")
	cmd.AddCommand(newKiosksEnrollCommand(data, stdout), newKiosksAddCommand(data, stdout), newKiosksListCommand(data, stdout),
		newKiosksRetireCommand(data, stdout), newKiosksTransitionCommand(data, stdout), newKiosksTestSiteCommand(data, stdout))
	return cmd
}

func fleetTable(tw io.Writer, fleet []records.FleetKiosk) {
	fmt.Fprintln(tw, "KIOSK\tSITE\tONLINE\tCONTIGUOUS\tMISSING\tLAST SEEN")
	for _, k := range fleet {
		seen := "never (no live batch yet)"
		if !k.LastSeen.IsZero() {
			seen = k.LastSeen.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%v\t%d\t%d ranges\t%s\n", k.Kiosk.Kiosk, k.Site, k.Online, k.Contiguous, len(k.Gaps), seen)
	}
}

// mustExist refuses a data folder that is not there: a mistyped --data
// must not grow a second hub, with its own downlink key, beside the real
// one.
func (h *hubData) mustExist() error {
	fi, err := os.Stat(h.path)
	if err != nil || !fi.IsDir() {
		return fmt.Errorf("no hub data in %s: give the hub's data folder with --data (or run `hub tls init` / `hub serve` there first)", h.path)
	}
	return nil
}

// withRegistry opens the kiosk register, runs fn with it and closes it.
func (h *hubData) withRegistry(cmd *cobra.Command, fn func(*registry.Store) error) error {
	if err := h.mustExist(); err != nil {
		return err
	}
	s, err := h.dir(cmd).OpenRegistry()
	if err != nil {
		return err
	}
	defer s.Close()
	return fn(s)
}

// audit writes a line of the console's audit log for a change made from
// the command line, as the console does for its own; the change stands
// if the line cannot be written, and the command says so.
func (h *hubData) audit(cmd *cobra.Command, action, detail string) {
	err := h.withOperators(cmd, func(s *operators.Store) error {
		return s.Audit(cmd.Context(), "(command line)", action, detail)
	})
	if err != nil {
		fmt.Fprintf(cmd.ErrOrStderr(), "note: done, but not written to the audit log: %v\n", err)
	}
}

// registryRow is a kiosk as `hub kiosks list --json` prints it.
type registryRow struct {
	Site        string     `json:"site"`
	Kiosk       string     `json:"kiosk"`
	State       string     `json:"state"`
	Fingerprint string     `json:"fingerprint,omitempty"`
	Created     time.Time  `json:"created"`
	Enrolled    *time.Time `json:"enrolled,omitempty"`
	Retired     *time.Time `json:"retired,omitempty"`
	CodeExpires *time.Time `json:"code_expires,omitempty"` // the newest code still out
}

type transitionRow struct {
	Site     string    `json:"site"`
	Deadline time.Time `json:"deadline"`
	Active   bool      `json:"active"`
}

type registryList struct {
	Kiosks      []registryRow   `json:"kiosks"`
	Transitions []transitionRow `json:"transitions"`
	TestSites   []string        `json:"test_sites"` // sites whose simulated entries are taken
}

func orNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func newKiosksListCommand(data *hubData, stdout io.Writer) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the kiosk register: enrolled, pending (with the code's expiry) and retired kiosks, and sites in transition",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return data.withRegistry(cmd, func(reg *registry.Store) error {
				ks, err := reg.List(cmd.Context())
				if err != nil {
					return err
				}
				ts, err := reg.Transitions(cmd.Context())
				if err != nil {
					return err
				}
				tests, err := reg.TestSites(cmd.Context())
				if err != nil {
					return err
				}
				out := registryList{Kiosks: []registryRow{}, Transitions: []transitionRow{}, TestSites: append([]string{}, tests...)}
				for _, k := range ks {
					out.Kiosks = append(out.Kiosks, registryRow{Site: k.Site, Kiosk: k.Kiosk, State: string(k.State),
						Fingerprint: k.Fingerprint(), Created: k.Created, Enrolled: orNil(k.Enrolled), Retired: orNil(k.Retired),
						CodeExpires: orNil(k.CodeExpires)})
				}
				for _, t := range ts {
					out.Transitions = append(out.Transitions, transitionRow{Site: t.Site, Deadline: t.Deadline, Active: t.Active})
				}
				return listing{json: asJSON}.print(stdout, out, func(tw io.Writer) { registryTable(tw, out, data.clock.Now()) })
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func registryTable(tw io.Writer, l registryList, now time.Time) {
	stamp := func(t *time.Time) string {
		if t == nil {
			return "-"
		}
		return t.UTC().Format(time.RFC3339)
	}
	if len(l.Kiosks) == 0 {
		fmt.Fprintln(tw, "No kiosks in the register yet: enroll one with `hub kiosks enroll --site S --kiosk K`.")
	} else {
		fmt.Fprintln(tw, "KIOSK\tSITE\tSTATE\tFINGERPRINT\tCREATED\tENROLLED\tRETIRED\tCODE EXPIRES")
		for _, k := range l.Kiosks {
			fp := k.Fingerprint
			if fp == "" {
				fp = "-"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.Kiosk, k.Site, k.State, fp, stamp(&k.Created),
				stamp(k.Enrolled), stamp(k.Retired), stamp(k.CodeExpires))
		}
	}
	for _, site := range l.TestSites {
		fmt.Fprintf(tw, "\nsite %s is a test site: entries from simulated devices are taken there (`hub kiosks test-site --site %s --off` to stop).\n", site, site)
	}
	for _, t := range l.Transitions {
		if t.Active {
			fmt.Fprintf(tw, "\nWARNING: site %s is in transition mode: its kiosks that are not enrolled are still accepted until %s (%s left). Enroll them before then.\n",
				t.Site, t.Deadline.UTC().Format(time.RFC3339), t.Deadline.Sub(now).Round(time.Minute))
		} else {
			fmt.Fprintf(tw, "\nsite %s: transition ended at %s; its kiosks that are not enrolled are refused (`hub kiosks transition --site %s --end` clears this line).\n",
				t.Site, t.Deadline.UTC().Format(time.RFC3339), t.Site)
		}
	}
}

func newKiosksRetireCommand(data *hubData, stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "retire KIOSK",
		Short: "Retire a kiosk: its session is closed, its login and later batches refused; what it sent stays",
		Long: "Retire a kiosk for good (a stolen or replaced device). The running hub closes its broker session\n" +
			"within seconds; its login is refused from now on (an external Mosquitto: run `hub broker-config\n" +
			"mosquitto` again and reload it); any batch it sends later is refused and counted; its enrollment\n" +
			"codes stop working; what it already sent stays at the hub. The id can never enroll again: give a\n" +
			"replacement device a new kiosk id.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			kiosk := args[0]
			return data.withRegistry(cmd, func(reg *registry.Store) error {
				before, err := reg.Get(cmd.Context(), kiosk)
				if errors.Is(err, registry.ErrUnknown) {
					return fmt.Errorf("no kiosk %q in the register: see `hub kiosks list`", kiosk)
				}
				if err != nil {
					return err
				}
				if before.State == registry.Retired {
					fmt.Fprintf(stdout, "%s/%s was retired already, at %s; nothing changed.\n", before.Site, kiosk, before.Retired.UTC().Format(time.RFC3339))
					return nil
				}
				if err := reg.Retire(cmd.Context(), kiosk); err != nil {
					return err
				}
				data.audit(cmd, "kiosk_retire", before.Site+"/"+kiosk)
				fmt.Fprintf(stdout, "%s/%s retired.\n"+
					"- The running hub closes its broker session within seconds; its login is refused from now on.\n"+
					"  (An external Mosquitto: run `hub broker-config mosquitto --out DIR` and reload it.)\n"+
					"- Batches it sends from now on are refused and counted; its enrollment codes no longer work.\n"+
					"- What it already sent stays at the hub.\n"+
					"- The id %s can never enroll again: give a replacement device a new kiosk id.\n", before.Site, kiosk, kiosk)
				return nil
			})
		},
	}
}

func newKiosksTransitionCommand(data *hubData, stdout io.Writer) *cobra.Command {
	var site, until string
	var end bool
	cmd := &cobra.Command{
		Use:   "transition --site S (--until TIME | --end)",
		Short: "For a hub upgraded in place: keep accepting a site's kiosks that are not enrolled yet, until a deadline",
		Long: "A new hub accepts only enrolled kiosks. A hub upgraded in place can keep accepting the not yet\n" +
			"enrolled kiosks of one site, until --until (RFC 3339, by the hub's clock, at most a year ahead),\n" +
			"while the installer enrolls them. Retired kiosks and kiosks of another site are refused all the\n" +
			"same; from the deadline on, every kiosk of the site that is not enrolled is refused. The console\n" +
			"shows the deadline as a warning. --end ends it now.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if site == "" {
				return errors.New("--site is required")
			}
			var deadline time.Time
			switch {
			case end && until != "":
				return errors.New("give --until or --end, not both")
			case !end && until == "":
				return errors.New("give --until TIME (e.g. 2027-01-31T00:00:00Z) or --end")
			case !end:
				var err error
				if deadline, err = time.Parse(time.RFC3339, until); err != nil {
					return fmt.Errorf("--until %q: write the deadline as RFC 3339, e.g. 2027-01-31T00:00:00Z or 2027-01-31T08:00:00+08:00", until)
				}
			}
			return data.withRegistry(cmd, func(reg *registry.Store) error {
				if err := reg.SetTransition(cmd.Context(), site, deadline); err != nil {
					return err
				}
				if end {
					data.audit(cmd, "transition_end", site)
					fmt.Fprintf(stdout, "Transition of site %s ended: only its enrolled kiosks are accepted now.\n", site)
					return nil
				}
				data.audit(cmd, "transition_set", site+" until "+deadline.UTC().Format(time.RFC3339))
				fmt.Fprintf(stdout, "Site %s is in transition mode until %s (hub clock).\n"+
					"Until then its kiosks that are not enrolled yet are still accepted; retired kiosks and kiosks of\n"+
					"another site are refused as always. From the deadline on, only enrolled kiosks are accepted:\n"+
					"enroll each with `hub kiosks enroll --site %s --kiosk K` before then.\n", site, deadline.UTC().Format(time.RFC3339), site)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&site, "site", "", "the site")
	cmd.Flags().StringVar(&until, "until", "", "the deadline, RFC 3339 (e.g. 2027-01-31T00:00:00Z)")
	cmd.Flags().BoolVar(&end, "end", false, "end the transition now")
	return cmd
}

func newKiosksTestSiteCommand(data *hubData, stdout io.Writer) *cobra.Command {
	var site string
	var off bool
	cmd := &cobra.Command{
		Use:   "test-site --site S [--off]",
		Short: "Mark a site as a test site, whose kiosks may run simulated devices (a demo, a training room)",
		Long: "Entries from simulated devices are invented: the hub takes them only from a test site and refuses\n" +
			"them from any other (counted as rejected_total{reason=\"simulated\"}). Mark a demo or training site\n" +
			"here; --off unmarks it. `hub kiosks list` shows the test sites.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if site == "" {
				return fmt.Errorf("--site is required")
			}
			return data.withRegistry(cmd, func(reg *registry.Store) error {
				if err := reg.SetTestSite(cmd.Context(), site, !off); err != nil {
					return err
				}
				if off {
					data.audit(cmd, "test_site_off", site)
					fmt.Fprintf(stdout, "%s is no longer a test site: entries from simulated devices there are refused.\n", site)
					return nil
				}
				data.audit(cmd, "test_site_on", site)
				fmt.Fprintf(stdout, "%s is a test site: the hub takes entries from simulated devices there (never mark a real compound).\n", site)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&site, "site", "", "the site")
	cmd.Flags().BoolVar(&off, "off", false, "unmark the site")
	return cmd
}
