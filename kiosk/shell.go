package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/gatepost/gatepost/internal/logs"
	"github.com/gatepost/gatepost/kiosk/config"
	"github.com/gatepost/gatepost/kiosk/daemon"
	"github.com/gatepost/gatepost/kiosk/journal"
	"github.com/spf13/cobra"
)

// The command shell: what every command shares, so that a command is its
// own flags and a call. Flags, defaults and outputs are a contract with
// installers' scripts: keep them as they are.

// defaultConfig is where the kiosk's configuration is unless --config
// says otherwise.
const defaultConfig = "kiosk.toml"

// configFlag is the --config flag of the commands that read the kiosk's
// configuration.
type configFlag struct{ path string }

// addConfigFlag defines --config on cmd; usage says what the command
// reads from it ("" for plainly "configuration file").
func addConfigFlag(cmd *cobra.Command, usage string) *configFlag {
	if usage == "" {
		usage = "configuration file"
	}
	f := new(configFlag)
	cmd.Flags().StringVar(&f.path, "config", defaultConfig, usage)
	return f
}

// load reads and validates the configuration.
func (f *configFlag) load() (config.Config, error) { return loadConfig(f.path) }

// loadConfig reads and validates the configuration at path; with no
// path (a probe given no --config) it is the defaults.
func loadConfig(path string) (config.Config, error) {
	if path == "" {
		return config.Default(), nil
	}
	return config.Load(path)
}

// journalMode says how a command opens the journal.
type journalMode int

const (
	// readOnly is safe while the kiosk runs; the journal must exist.
	readOnly journalMode = iota
	// readWrite creates the data folder and the journal if need be (stop
	// the kiosk first).
	readWrite
)

// openJournal opens the journal in cfg's data folder.
func openJournal(cfg config.Config, mode journalMode) (*journal.Journal, error) {
	path := filepath.Join(cfg.DataDir, daemon.JournalFile)
	if mode == readOnly {
		return journal.OpenReadOnly(path)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("create data folder: %w", err)
	}
	return journal.Open(path, cfg.Kiosk)
}

// withJournal opens cfg's journal, runs fn with it and closes it.
func withJournal(cfg config.Config, mode journalMode, fn func(*journal.Journal) error) error {
	j, err := openJournal(cfg, mode)
	if err != nil {
		return err
	}
	defer j.Close()
	return fn(j)
}

// jsonFlag is the --json flag: JSON for scripts instead of the text a
// person reads.
type jsonFlag struct {
	on bool
	// rawHTML keeps <, > and & as they are in the JSON (a pass's text
	// may hold them); otherwise they are escaped, as encoding/json does.
	rawHTML bool
}

func addJSONFlag(cmd *cobra.Command) *jsonFlag {
	f := new(jsonFlag)
	cmd.Flags().BoolVar(&f.on, "json", false, "print JSON for scripts")
	return f
}

// print writes v as indented JSON with --json, else calls text.
func (f *jsonFlag) print(w io.Writer, v any, text func(io.Writer) error) error {
	if !f.on {
		return text(w)
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(!f.rawHTML)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// logFlags are --log-format and --debug, of the commands that run.
type logFlags struct {
	format string
	debug  bool
}

func addLogFlags(cmd *cobra.Command) *logFlags {
	f := new(logFlags)
	cmd.Flags().StringVar(&f.format, "log-format", logs.Text, "log lines as "+logs.Formats+": json for journald and log shippers (the systemd units use it), auto for text on a terminal and JSON otherwise")
	cmd.Flags().BoolVar(&f.debug, "debug", false, "log at debug level too")
	return f
}

// logger is the logger the flags ask for, writing to w.
func (f *logFlags) logger(w io.Writer) (*slog.Logger, error) {
	level := slog.LevelInfo
	if f.debug {
		level = slog.LevelDebug
	}
	return logs.New(w, f.format, level)
}
