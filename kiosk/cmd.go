package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/gatepost/gatepost/kiosk/config"
	"github.com/gatepost/gatepost/kiosk/daemon"
	"github.com/gatepost/gatepost/kiosk/journal"
	"github.com/spf13/cobra"
)

func newRootCmd(version string) *cobra.Command {
	root := &cobra.Command{
		Use:           "kiosk",
		Short:         "The gatepost gate daemon",
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newRunCmd(), newInitCmd(), newStatusCmd(), newVerifyCmd(time.Now),
		newPortsCmd(), newProbeCmd(), newCalibrateCmd(), newExportCmd())
	return root
}

func newRunCmd() *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run the gate: devices, journal, screen and sync to the hub",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(path)
			if err != nil {
				return err
			}
			log := slog.New(slog.NewTextHandler(os.Stderr, nil)).With("kiosk", cfg.Kiosk)
			d, err := daemon.Open(cfg, log)
			if err != nil {
				return err
			}
			// One line on stdout when ready, for scripts and tests.
			fmt.Printf("kiosk ready kiosk=%s screen=%s\n", cfg.Kiosk, d.ScreenURL())
			return d.Run(cmd.Context())
		},
	}
	cmd.Flags().StringVar(&path, "config", "kiosk.toml", "configuration file (write one with `kiosk init`)")
	return cmd
}

func newInitCmd() *cobra.Command {
	var path string
	var force bool
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Write a commented default configuration",
		RunE: func(cmd *cobra.Command, _ []string) error {
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
			if _, err := f.WriteString(config.Sample); err != nil {
				f.Close()
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s: set kiosk, site, mqtt.broker and the device ports, then run: kiosk run --config %s\n", path, path)
			return nil
		},
	}
	cmd.Flags().StringVar(&path, "config", "kiosk.toml", "where to write the configuration")
	cmd.Flags().BoolVar(&force, "force", false, "overwrite an existing file")
	return cmd
}

func newStatusCmd() *cobra.Command {
	var path string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the journal's size and sync position (safe while the kiosk runs)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(path)
			if err != nil {
				return err
			}
			j, err := journal.OpenReadOnly(filepath.Join(cfg.DataDir, daemon.JournalFile))
			if err != nil {
				return err
			}
			defer j.Close()
			st, err := j.Status(context.Background())
			if err != nil {
				return err
			}
			// The link state lives in the running daemon: ask its screen.
			link, warning := liveState(cfg.Screen.Listen)
			// A journal last written by an older daemon has no downlinks yet.
			versions, _ := j.Downlinks(context.Background())
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(struct {
					journal.Status
					Link     string            `json:"link"`              // online, offline, or "unknown (kiosk not running)"
					Warning  string            `json:"warning,omitempty"` // the screen's warning: disk, entries that cannot sync
					Downlink map[string]uint64 `json:"downlink"`          // versions from the hub in use
				}{st, link, warning, versions})
			}
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
			printDevices(out, cfg, j)
			return nil
		},
	}
	cmd.Flags().StringVar(&path, "config", "kiosk.toml", "configuration file")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON for scripts")
	return cmd
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
