package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/gatepost/gatepost/internal/clock"
	"github.com/gatepost/gatepost/internal/sdnotify"
	"github.com/gatepost/gatepost/kiosk/config"
	"github.com/gatepost/gatepost/kiosk/daemon"
	"github.com/gatepost/gatepost/kiosk/enrollment"
	"github.com/gatepost/gatepost/kiosk/journal"
	"github.com/spf13/cobra"
)

func newRunCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run the gate: devices, journal, screen and sync to the hub",
	}
	conf := addConfigFlag(cmd, "configuration file (write one with `kiosk init`)")
	lf := addLogFlags(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		cfg, err := conf.load()
		if err != nil {
			return err
		}
		log, err := lf.logger(cmd.ErrOrStderr())
		if err != nil {
			return err
		}
		log = log.With("kiosk", cfg.Kiosk)
		d, err := daemon.Open(cfg, log, clock.Real())
		if err != nil {
			return err
		}
		d.Notify = sdnotify.FromEnv() // systemd's Type=notify and watchdog
		// One line on stdout when ready, for scripts and tests.
		fmt.Printf("kiosk ready kiosk=%s screen=%s\n", cfg.Kiosk, d.ScreenURL())
		err = d.Run(cmd.Context())
		if cerr := d.Close(); err == nil {
			err = cerr
		}
		return err
	}
	return cmd
}

func newInitCmd() *cobra.Command {
	var force, demo bool
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Write a commented default configuration, for the real thermometer and scanner (--demo: simulated)",
	}
	conf := addConfigFlag(cmd, "where to write the configuration")
	cmd.Flags().BoolVar(&force, "force", false, "overwrite an existing file")
	cmd.Flags().BoolVar(&demo, "demo", false, "simulate both devices (a demo with no hardware: its entries are invented, never on a gate)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		path := conf.path
		flag := os.O_WRONLY | os.O_CREATE | os.O_EXCL
		if force {
			flag = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
		}
		f, err := os.OpenFile(path, flag, 0o640)
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%s already exists: edit it, or use --force to overwrite it", path)
		}
		if err != nil {
			return err
		}
		sample := config.Sample
		if demo {
			sample = config.DemoSample
		}
		if _, err := f.WriteString(sample); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "wrote %s: set kiosk, site, data_dir and the device ports, enroll at the hub (kiosk enroll --config %s CODE), then run: kiosk run --config %s\n", path, path, path)
		return nil
	}
	return cmd
}

func newStatusCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the journal's size and sync position (safe while the kiosk runs)",
	}
	conf := addConfigFlag(cmd, "")
	asJSON := addJSONFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		cfg, err := conf.load()
		if err != nil {
			return err
		}
		return withJournal(cfg, readOnly, func(j *journal.Journal) error {
			st, err := j.Status(context.Background())
			if err != nil {
				return err
			}
			// The link state lives in the running daemon: ask its screen.
			link, warning := liveState(cfg.Screen.Listen)
			// A journal last written by an older daemon has no downlinks yet.
			versions, _ := j.Downlinks(context.Background())
			enrolled, enrollText := enrollmentState(cfg)
			if !enrolled && !strings.Contains(warning, daemon.NotEnrolled()) {
				warning = strings.TrimSpace(daemon.NotEnrolled() + " " + warning)
			}
			report := struct {
				journal.Status
				Link       string            `json:"link"`              // online, offline, or "unknown (kiosk not running)"
				Warning    string            `json:"warning,omitempty"` // the screen's warning: not enrolled, disk, entries that cannot sync
				Downlink   map[string]uint64 `json:"downlink"`          // versions from the hub in use
				Enrolled   bool              `json:"enrolled"`
				Enrollment string            `json:"enrollment"` // the broker it logs in to, or why it is not enrolled
			}{st, link, warning, versions, enrolled, enrollText}
			return asJSON.print(cmd.OutOrStdout(), report, func(out io.Writer) error {
				printStatus(out, st, link, warning, versions)
				fmt.Fprintf(out, "enrolled   %s\n", enrollText)
				printDevices(out, cfg, j)
				return nil
			})
		})
	}
	return cmd
}

// enrollmentState says whether the kiosk is enrolled, and how it logs in
// or why it cannot.
func enrollmentState(cfg config.Config) (bool, string) {
	a, enrolled, err := enrollment.Load(cfg.DataDir)
	switch {
	case err != nil:
		return false, "unusable: " + err.Error()
	case !enrolled:
		return false, "no (kiosk enroll)"
	}
	return true, fmt.Sprintf("yes, as %s at %s", a.Username, a.Broker)
}

// printStatus is `kiosk status` for a person.
func printStatus(out io.Writer, st journal.Status, link, warning string, versions map[string]uint64) {
	fmt.Fprintf(out, "link       %s\n", link)
	if warning != "" {
		fmt.Fprintf(out, "WARNING    %s\n", warning)
	}
	fmt.Fprintf(out, "kiosk      %s\njournal    %s (%d bytes, id %s)\nentries    %d (last seq %d)\nsynced     up to %d\nunsynced   %d\n",
		st.Kiosk, st.Path, st.SizeBytes, st.ID, st.Entries, st.LastSeq, st.AckedSeq, st.Unsynced)
	if st.LastAck != nil {
		fmt.Fprintf(out, "last ack   %s\n", st.LastAck.Local().Format("2006-01-02 15:04:05"))
	} else {
		fmt.Fprintln(out, "last ack   never")
	}
	if len(versions) > 0 {
		fmt.Fprintf(out, "from hub   config v%d, status list v%d, keys v%d\n",
			versions["config"], versions["status_list"], versions["keys"])
	}
	if st.OldestUnsynced != nil {
		fmt.Fprintf(out, "oldest unsynced entry  %s (%s ago)\n", st.OldestUnsynced.Local().Format("2006-01-02 15:04:05"),
			time.Since(*st.OldestUnsynced).Round(time.Second))
	}
}

// liveState asks a running daemon's screen whether the hub link is up,
// and what its warning says (disk nearly full, entries that cannot sync).
func liveState(listen string) (link, warning string) {
	c := http.Client{Timeout: time.Second}
	resp, err := c.Get("http://" + listen + "/api/state")
	if err != nil {
		return "unknown (kiosk not running, or its screen is not at " + listen + ")", ""
	}
	defer resp.Body.Close()
	var st struct {
		Online  bool   `json:"online"`
		Warning string `json:"warning"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return "unknown (the screen at " + listen + " did not answer)", ""
	}
	if st.Online {
		return "online", st.Warning
	}
	return "offline", st.Warning
}
