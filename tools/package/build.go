package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
)

// allArches are the Debian architectures built by default: PCs, 64-bit
// ARM boards, and 32-bit ARMv7 boards (older Raspberry Pi OS).
var allArches = []string{"amd64", "arm64", "armhf"}

// options is one run of the tool.
type options struct {
	Version   string   // Debian version, also stamped into the binaries
	Out       string   // folder the .deb files go to
	Arches    []string // Debian architectures
	Module    string   // the gatepost module's root, where ./kiosk and ./hub are
	Packaging string   // the folder holding systemd/, udev/, scripts/, doc/
}

// debVersion is what Debian accepts as an upstream version (no epoch, no
// colon): a digit first, then letters, digits and . + ~ -.
var debVersion = regexp.MustCompile(`^[0-9][A-Za-z0-9.+~-]*$`)

func (o options) validate() error {
	if !debVersion.MatchString(o.Version) {
		return fmt.Errorf("--version %q is not a Debian version: start with a digit and use only letters, digits and . + ~ - (e.g. 1.4.0 or 1.4.0~rc1)", o.Version)
	}
	if len(o.Arches) == 0 {
		return errors.New("--arch is empty: name at least one of " + strings.Join(allArches, ", "))
	}
	for _, a := range o.Arches {
		if _, _, ok := goTarget(a); !ok {
			return fmt.Errorf("--arch %q is not one we build: use %s", a, strings.Join(allArches, ", "))
		}
	}
	if o.Out == "" {
		return errors.New("--out is empty: name the folder the packages go to")
	}
	return nil
}

// goTarget maps a Debian architecture to GOARCH and GOARM. armhf is
// ARMv7 with hardware floating point, Debian's baseline for it.
func goTarget(debArch string) (goarch, goarm string, ok bool) {
	switch debArch {
	case "amd64", "arm64":
		return debArch, "", true
	case "armhf":
		return "arm", "7", true
	}
	return "", "", false
}

// moduleRoot is the folder of the go.mod the current folder belongs to.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w (is the go tool on PATH?)", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not inside the gatepost module: run from the repository, e.g. go run ./tools/package")
	}
	return filepath.Dir(gomod), nil
}

// buildBinaries builds static kiosk and hub binaries for one Debian
// architecture into dir.
func buildBinaries(ctx context.Context, o options, debArch, dir string) error {
	goarch, goarm, _ := goTarget(debArch)
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath",
		"-ldflags", "-s -w -buildid= -X main.version="+o.Version,
		"-o", dir+string(filepath.Separator), "./kiosk", "./hub")
	cmd.Dir = o.Module
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch, "GOARM="+goarm)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("build kiosk and hub for %s: %w\n%s", debArch, err, stderr.String())
	}
	return nil
}

// hostArch is the Debian architecture of this machine, "" when it is not
// one we build.
func hostArch() string {
	for _, a := range allArches {
		if goarch, _, _ := goTarget(a); goarch == runtime.GOARCH {
			return a
		}
	}
	return ""
}

// writeConfigs writes kiosk.toml and hub.toml into dir from the samples the
// binaries in bin print, with the paths of an installed system: state
// under /var/lib/gatepost and the devices under the udev rules' names.
func writeConfigs(ctx context.Context, bin, dir string) error {
	kioskToml := filepath.Join(dir, "kiosk.toml")
	if out, err := exec.CommandContext(ctx, filepath.Join(bin, "kiosk"), "init", "--config", kioskToml).CombinedOutput(); err != nil {
		return fmt.Errorf("kiosk init: %w\n%s", err, out)
	}
	sample, err := os.ReadFile(kioskToml)
	if err != nil {
		return err
	}
	kiosk, err := setValues(string(sample), []setting{
		{"", "data_dir", "/var/lib/gatepost/kiosk"},
		{"thermometer", "port", "/dev/gatepost-thermometer"},
		{"scanner", "port", "/dev/gatepost-scanner"},
	})
	if err != nil {
		return fmt.Errorf("kiosk.toml from kiosk init: %w", err)
	}
	hubSample, err := exec.CommandContext(ctx, filepath.Join(bin, "hub"), "serve", "--sample-config").Output()
	if err != nil {
		return fmt.Errorf("hub serve --sample-config: %w", err)
	}
	hub, err := setValues(string(hubSample), []setting{{"", "data_dir", "/var/lib/gatepost/hub"}})
	if err != nil {
		return fmt.Errorf("hub.toml from hub serve --sample-config: %w", err)
	}
	if err := os.WriteFile(kioskToml, []byte(kiosk), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "hub.toml"), []byte(hub), 0o644)
}

// setting is one TOML key to set: its table ("" for the top) and value.
type setting struct{ table, key, value string }

// setValues sets string values in a TOML sample, line by line, keeping
// the comments; each key must be there exactly once in its table, so a
// sample that changed shape fails the build instead of shipping unset.
func setValues(text string, settings []setting) (string, error) {
	lines := strings.Split(text, "\n")
	for _, s := range settings {
		found := 0
		table := ""
		for i, line := range lines {
			trimmed := strings.TrimSpace(line)
			if strings.HasPrefix(trimmed, "[") {
				table = strings.Trim(trimmed, "[] ")
				continue
			}
			name, rest, ok := strings.Cut(trimmed, "=")
			if !ok || table != s.table || strings.TrimSpace(name) != s.key {
				continue
			}
			_, comment, _ := strings.Cut(rest, "#")
			lines[i] = fmt.Sprintf("%s = %q", s.key, s.value)
			if comment != "" {
				lines[i] += " #" + comment
			}
			found++
		}
		if found != 1 {
			return "", fmt.Errorf("key %q of table [%s] found %d times in the sample, want once: update tools/package to the sample's new shape", s.key, s.table, found)
		}
	}
	return strings.Join(lines, "\n"), nil
}
