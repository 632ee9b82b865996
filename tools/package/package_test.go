package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gatepost/gatepost/internal/need"
)

// testVersion is stamped into the test's packages; the ~ checks that a
// Debian pre-release version survives nfpm untouched.
const testVersion = "1.2.3~test1"

// otherUnits are written in another branch; until it is merged, a local
// run packs stand-ins (CI, which asks for everything, fails instead).
var otherUnits = []string{"gatepost-kiosk.service", "gatepost-hub.service"}

// packagingCopy copies the repository's packaging folder into a temporary
// one, so a test can remove files from it.
func packagingCopy(t *testing.T, module string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "packaging")
	if err := os.CopyFS(dst, os.DirFS(filepath.Join(module, "packaging"))); err != nil {
		t.Fatal(err)
	}
	for _, u := range otherUnits {
		p := filepath.Join(dst, "systemd", u)
		if _, err := os.Stat(p); err == nil {
			continue
		}
		if os.Getenv("CI") != "" {
			t.Fatalf("packaging/systemd/%s is missing: the packages ship it", u)
		}
		t.Logf("packaging/systemd/%s is not in this tree yet: packing a stand-in", u)
		unit := "[Unit]\nDescription=stand-in\n\n[Service]\nExecStart=/usr/bin/true\n"
		if err := os.WriteFile(p, []byte(unit), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func testOptions(t *testing.T) options {
	t.Helper()
	module, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	return options{Version: testVersion, Out: t.TempDir(), Arches: []string{"amd64"}, Module: module, Packaging: packagingCopy(t, module)}
}

func TestMissingSourceIsRefused(t *testing.T) {
	o := testOptions(t)
	gone := filepath.Join(o.Packaging, "systemd", "gatepost-hub.service")
	if err := os.Remove(gone); err != nil {
		t.Fatal(err)
	}
	_, err := build(context.Background(), o)
	if err == nil || !strings.Contains(err.Error(), gone) {
		t.Fatalf("build without %s = %v, want an error naming it", gone, err)
	}
	if entries, _ := os.ReadDir(o.Out); len(entries) > 0 {
		t.Errorf("a refused build wrote %d files to --out", len(entries))
	}
}

func TestOptionsRefuseBadValues(t *testing.T) {
	good := options{Version: "1.0.0", Out: "dist", Arches: []string{"amd64"}}
	for _, tc := range []struct {
		name string
		edit func(*options)
		want string
	}{
		{"version with a v", func(o *options) { o.Version = "v1.0.0" }, "start with a digit"},
		{"version with a colon", func(o *options) { o.Version = "1:1.0" }, "not a Debian version"},
		{"unknown arch", func(o *options) { o.Arches = []string{"i386"} }, "use amd64, arm64, armhf"},
		{"no out", func(o *options) { o.Out = "" }, "--out is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := good
			tc.edit(&o)
			if err := o.validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("validate() = %v, want an error saying %q", err, tc.want)
			}
		})
	}
	if err := good.validate(); err != nil {
		t.Errorf("validate(%+v) = %v, want nil", good, err)
	}
}

func TestSetValuesRefusesAChangedSample(t *testing.T) {
	sample := "data_dir = \"x\"   # note\n[a]\nport = \"p\"\n[b]\nport = \"q\"\n"
	got, err := setValues(sample, []setting{{"", "data_dir", "/d"}, {"b", "port", "/dev/s"}})
	if err != nil {
		t.Fatal(err)
	}
	want := "data_dir = \"/d\" # note\n[a]\nport = \"p\"\n[b]\nport = \"/dev/s\"\n"
	if got != want {
		t.Errorf("setValues = %q, want %q", got, want)
	}
	if _, err := setValues(sample, []setting{{"c", "port", "/x"}}); err == nil {
		t.Error("setValues of a key not in the sample succeeded, want an error")
	}
}

// run runs a command and returns its standard output, failing the test
// with its standard error on failure.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, out, msg)
	}
	return string(out)
}

// debs builds the amd64 packages once for the tests below.
func debs(t *testing.T) map[string]string {
	t.Helper()
	need.Program(t, "dpkg-deb", "dpkg")
	o := testOptions(t)
	paths, err := build(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]string{}
	for _, p := range paths {
		name, _, _ := strings.Cut(filepath.Base(p), "_")
		byName[name] = p
	}
	for _, want := range []string{"gatepost-kiosk", "gatepost-hub"} {
		if want := filepath.Join(o.Out, want+"_"+testVersion+"_amd64.deb"); !slices.Contains(paths, want) {
			t.Fatalf("build wrote %v, want %s among them", paths, want)
		}
	}
	return byName
}

// contentsOf lists a package's files as "mode owner/group path" lines.
func contentsOf(t *testing.T, deb string) map[string]string {
	t.Helper()
	got := map[string]string{}
	for _, line := range strings.Split(run(t, "dpkg-deb", "-c", deb), "\n") {
		f := strings.Fields(line)
		if len(f) < 6 {
			continue
		}
		got[strings.TrimPrefix(f[5], ".")] = f[0] + " " + f[1]
	}
	return got
}

func TestPackagesAmd64(t *testing.T) {
	pkgs := debs(t)
	files := map[string]map[string]string{
		"gatepost-kiosk": {
			"/usr/bin/kiosk":                                  "-rwxr-xr-x root/root",
			"/etc/gatepost/kiosk.toml":                        "-rw-r----- root/root",
			"/usr/lib/systemd/system/gatepost-kiosk.service":  "-rw-r--r-- root/root",
			"/usr/lib/systemd/system/gatepost-screen.service": "-rw-r--r-- root/root",
			"/usr/lib/udev/rules.d/99-gatepost.rules":         "-rw-r--r-- root/root",
			"/usr/share/doc/gatepost-kiosk/copyright":         "-rw-r--r-- root/root",
			"/usr/share/doc/gatepost-kiosk/changelog.gz":      "-rw-r--r-- root/root",
			"/usr/share/doc/gatepost-kiosk/README.Debian":     "-rw-r--r-- root/root",
		},
		"gatepost-hub": {
			"/usr/bin/hub":           "-rwxr-xr-x root/root",
			"/etc/gatepost/hub.toml": "-rw-r----- root/root",
			"/usr/lib/systemd/system/gatepost-hub.service": "-rw-r--r-- root/root",
			"/usr/share/doc/gatepost-hub/copyright":        "-rw-r--r-- root/root",
		},
	}
	for name, want := range files {
		t.Run(name+"/contents", func(t *testing.T) {
			got := contentsOf(t, pkgs[name])
			for path, mode := range want {
				if got[path] != mode {
					t.Errorf("%s: %s is %q, want %q", name, path, got[path], mode)
				}
			}
			if name == "gatepost-hub" && got["/usr/lib/udev/rules.d/99-gatepost.rules"] != "" {
				t.Error("the hub package ships the kiosk's udev rules")
			}
		})
		t.Run(name+"/control", func(t *testing.T) { checkControl(t, name, pkgs[name]) })
	}
	t.Run("files", func(t *testing.T) { checkFiles(t, pkgs) })
	t.Run("lintian", func(t *testing.T) { checkLintian(t, pkgs) })
	t.Run("install", func(t *testing.T) { checkInstall(t, pkgs) })
}

// checkControl asserts the control fields, the conffiles and that the
// maintainer scripts are the packaging folder's.
func checkControl(t *testing.T, name, deb string) {
	info := run(t, "dpkg-deb", "-I", deb)
	for _, want := range []string{
		"Package: " + name, "Version: " + testVersion, "Architecture: amd64", "Depends: adduser",
		" postinst", " prerm", " postrm", " conffiles",
	} {
		if !strings.Contains(info, want) {
			t.Errorf("dpkg-deb -I %s lacks %q:\n%s", name, want, info)
		}
	}
	conf := map[string]string{"gatepost-kiosk": "/etc/gatepost/kiosk.toml", "gatepost-hub": "/etc/gatepost/hub.toml"}[name]
	if got := strings.TrimSpace(run(t, "dpkg-deb", "-I", deb, "conffiles")); got != conf {
		t.Errorf("%s conffiles = %q, want %q", name, got, conf)
	}
	module, _ := moduleRoot()
	for _, script := range []string{"postinst", "prerm", "postrm"} {
		want, err := os.ReadFile(filepath.Join(module, "packaging", "scripts", script))
		if err != nil {
			t.Fatal(err)
		}
		if got := run(t, "dpkg-deb", "-I", deb, script); got != string(want) {
			t.Errorf("%s's %s is not packaging/scripts/%s", name, script, script)
		}
	}
}

// checkFiles unpacks both packages and checks the configuration's paths
// and the binaries' stamped version.
func checkFiles(t *testing.T, pkgs map[string]string) {
	root := t.TempDir()
	for _, deb := range pkgs {
		run(t, "dpkg-deb", "-x", deb, root)
	}
	kiosk, err := os.ReadFile(filepath.Join(root, "etc/gatepost/kiosk.toml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, re := range []string{
		`(?m)^data_dir = "/var/lib/gatepost/kiosk"$`,
		`(?s)\[thermometer\].*?\nport = "/dev/gatepost-thermometer"\n.*?\nsimulate = false\n`,
		`(?s)\[scanner\].*?\nport = "/dev/gatepost-scanner"\n.*?\nsimulate = false\n`,
	} {
		if !regexp.MustCompile(re).Match(kiosk) {
			t.Errorf("kiosk.toml does not match %s:\n%s", re, kiosk)
		}
	}
	hub, err := os.ReadFile(filepath.Join(root, "etc/gatepost/hub.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^data_dir = "/var/lib/gatepost/hub" +# `).Match(hub) {
		t.Errorf("hub.toml's data_dir is not /var/lib/gatepost/hub:\n%s", hub)
	}
	for _, bin := range []string{"kiosk", "hub"} {
		if got := run(t, filepath.Join(root, "usr/bin", bin), "--version"); !strings.Contains(got, testVersion) {
			t.Errorf("%s --version = %q, want it to say %s", bin, got, testVersion)
		}
	}
	rules, err := os.ReadFile(filepath.Join(root, "usr/lib/udev/rules.d/99-gatepost.rules"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`SYMLINK+="gatepost-thermometer"`, `SYMLINK+="gatepost-scanner"`, `"1a86"`, `"10c4"`, `"0403"`, "cdc_acm", `GROUP="input"`} {
		if !strings.Contains(string(rules), want) {
			t.Errorf("99-gatepost.rules lacks %s", want)
		}
	}
}

// checkLintian runs Debian's package checker: errors fail, warnings are
// logged.
func checkLintian(t *testing.T, pkgs map[string]string) {
	lintian := need.Program(t, "lintian", "lintian")
	for name, deb := range pkgs {
		out, err := exec.Command(lintian, "--tag-display-limit", "0", deb).CombinedOutput()
		errors := 0
		for _, line := range strings.Split(string(out), "\n") {
			switch {
			case strings.HasPrefix(line, "E: "):
				errors++
				t.Errorf("lintian %s: %s", name, line)
			case line != "":
				t.Logf("lintian %s: %s", name, line)
			}
		}
		if err != nil && errors == 0 { // lintian itself failed, not the package
			t.Errorf("lintian %s: %v\n%s", name, err, out)
		}
	}
}

// checkInstall installs both packages with dpkg, as root only (CI is),
// runs the installed binaries, checks the user and state folder, and
// purges them, leaving the machine as it was.
func checkInstall(t *testing.T, pkgs map[string]string) {
	if os.Geteuid() != 0 {
		// Not a missing program: installing needs root, which a CI runner
		// may not give. The contents and lintian checks above have run.
		t.Skip("not root: run as root to install the packages with dpkg -i (CI here does)")
	}
	for name := range pkgs {
		if status, _ := exec.Command("dpkg-query", "-W", "-f=${db:Status-Status}", name).Output(); len(status) > 0 && string(status) != "not-installed" {
			t.Fatalf("%s is already on this machine (%s): the test installs and purges it, so it leaves an existing one alone; remove it first", name, status)
		}
	}
	if _, err := exec.Command("getent", "passwd", "gatepost").Output(); err == nil {
		t.Fatal("a user gatepost already exists here: the test's purge would delete it; remove it first")
	}
	t.Cleanup(func() {
		if out, err := exec.Command("dpkg", "--purge", "gatepost-kiosk", "gatepost-hub").CombinedOutput(); err != nil {
			t.Errorf("dpkg --purge: %v\n%s", err, out)
		}
	})
	out := run(t, "dpkg", "-i", pkgs["gatepost-kiosk"], pkgs["gatepost-hub"])
	if !strings.Contains(out, "nothing started") {
		t.Errorf("dpkg -i did not tell the installer what to do next:\n%s", out)
	}
	for _, bin := range []string{"/usr/bin/kiosk", "/usr/bin/hub"} {
		if got := run(t, bin, "--version"); !strings.Contains(got, testVersion) {
			t.Errorf("%s --version = %q, want it to say %s", bin, got, testVersion)
		}
	}
	groups := strings.Fields(run(t, "id", "-nG", "gatepost"))
	for _, g := range []string{"gatepost", "dialout", "input"} {
		if !slices.Contains(groups, g) {
			t.Errorf("user gatepost is in %v, want %s among them", groups, g)
		}
	}
	for _, dir := range []string{"/var/lib/gatepost", "/var/lib/gatepost/kiosk", "/var/lib/gatepost/hub"} {
		if got := strings.TrimSpace(run(t, "stat", "-c", "%U:%G %a", dir)); got != "gatepost:gatepost 750" {
			t.Errorf("%s is %s, want gatepost:gatepost 750", dir, got)
		}
	}
	if got := strings.TrimSpace(run(t, "stat", "-c", "%U:%G %a", "/etc/gatepost/kiosk.toml")); got != "root:gatepost 640" {
		t.Errorf("/etc/gatepost/kiosk.toml is %s, want root:gatepost 640", got)
	}
	// The service user reads the configuration and writes the state folder:
	// the kiosk's identity key is made there on first use.
	out = run(t, "runuser", "-u", "gatepost", "--", "/usr/bin/kiosk", "identity", "--config", "/etc/gatepost/kiosk.toml")
	if got := strings.TrimSpace(run(t, "stat", "-c", "%U:%G %a", "/var/lib/gatepost/kiosk/identity.key")); got != "gatepost:gatepost 600" {
		t.Errorf("kiosk identity as gatepost made identity.key %s, want gatepost:gatepost 600 (it printed %q)", got, out)
	}
	verifyUnits(t)
	checkConffileKept(t, pkgs["gatepost-kiosk"])
	run(t, "dpkg", "--purge", "gatepost-kiosk", "gatepost-hub")
	for _, gone := range []string{"/usr/bin/kiosk", "/usr/bin/hub", "/etc/gatepost", "/var/lib/gatepost"} {
		if _, err := os.Stat(gone); err == nil {
			t.Errorf("%s is still there after dpkg --purge", gone)
		}
	}
	if _, err := exec.Command("getent", "passwd", "gatepost").Output(); err == nil {
		t.Error("user gatepost is still there after dpkg --purge")
	}
}

// verifyUnits runs systemd-analyze verify on the installed units, which
// checks their syntax and that the programs they start are there: the
// daemons' always, the screen's where cage and Chromium are installed.
func verifyUnits(t *testing.T) {
	t.Helper()
	analyze := need.Program(t, "systemd-analyze", "systemd")
	units := []string{"gatepost-kiosk.service", "gatepost-hub.service"}
	if _, err := exec.LookPath("cage"); err == nil {
		units = append(units, "gatepost-screen.service")
	} else {
		t.Log("cage is not installed: gatepost-screen.service is not verified (apt-get install cage chromium to verify it)")
	}
	for _, u := range units {
		out, err := exec.Command(analyze, "verify", "/usr/lib/systemd/system/"+u).CombinedOutput()
		if err != nil || len(strings.TrimSpace(string(out))) > 0 {
			t.Errorf("systemd-analyze verify %s: %v\n%s", u, err, out)
		}
	}
}

// checkConffileKept edits the installed kiosk.toml as an installer would,
// installs the package again (dpkg's upgrade path: postinst configure
// with the old version), and finds the edit and the file's owner kept.
func checkConffileKept(t *testing.T, deb string) {
	t.Helper()
	const conf = "/etc/gatepost/kiosk.toml"
	text, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	edited, err := setValues(string(text), []setting{{"", "site", "huamu-1"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(conf, []byte(edited), 0o640); err != nil {
		t.Fatal(err)
	}
	run(t, "dpkg", "-i", "--force-confold", deb)
	if got, _ := os.ReadFile(conf); string(got) != edited {
		t.Errorf("%s after reinstalling:\n%s\nwant the installer's edit kept:\n%s", conf, got, edited)
	}
	if got := strings.TrimSpace(run(t, "stat", "-c", "%U:%G %a", conf)); got != "root:gatepost 640" {
		t.Errorf("%s after reinstalling is %s, want root:gatepost 640", conf, got)
	}
}

func FuzzSetValues(f *testing.F) {
	f.Add("data_dir = \"x\" # c\n[t]\nport = \"p\"\n", "t", "port", "/dev/x")
	f.Add("[a]\nk = 1\n[a]\nk = 2\n", "a", "k", "v")
	f.Add("k=", "", "k", "")
	f.Fuzz(func(t *testing.T, text, table, key, value string) {
		got, err := setValues(text, []setting{{table, key, value}})
		if err != nil {
			return
		}
		if want := fmt.Sprintf("%s = %q", key, value); !strings.Contains(got, want) {
			t.Errorf("setValues(%q, [%s] %s = %q) = %q, lacks %s", text, table, key, value, got, want)
		}
	})
}
