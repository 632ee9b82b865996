package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/goreleaser/nfpm/v2"
	"github.com/goreleaser/nfpm/v2/deb"
	"github.com/goreleaser/nfpm/v2/files"
)

const maintainer = "gatepost maintainers <maintainers@users.noreply.r-seed-3c071ae0.example>"

// pkgDef is one Debian package: what it is and which files it holds.
type pkgDef struct {
	name, binary, config string
	summary, about       string
	units                []string // under packaging/systemd/
	udev                 bool     // ships packaging/udev/99-gatepost.rules
	recommends           []string
	conflicts            []string
}

// packages are the two packages: a gate's and the hub's. The guard
// screen's unit goes with the kiosk, whose page it shows.
var packages = []pkgDef{{
	name: "gatepost-kiosk", binary: "kiosk", config: "kiosk.toml",
	summary: "gatepost gate kiosk: thermometer, QR scanner, journal, guard screen",
	about: "The daemon at a residential compound's gate: reads a USB IR thermometer and\n" +
		"a QR scanner, decides each entry, journals it to SQLite and syncs it to\n" +
		"the gatepost hub over MQTT. Includes the guard's touchscreen (Chromium in\n" +
		"kiosk mode under cage) and udev rules naming the devices.",
	units:      []string{"gatepost-kiosk.service", "gatepost-screen.service"},
	udev:       true,
	recommends: []string{"chromium", "cage", "fonts-wqy-microhei"}, // the screen, and Chinese on it
}, {
	name: "gatepost-hub", binary: "hub", config: "hub.toml",
	summary: "gatepost hub: receives, stores and shows every gate's entries",
	about: "The central server of gatepost: an MQTT broker for the kiosks, storage of\n" +
		"every entry exactly once, pass issuing, and the operators' console.",
	units: []string{"gatepost-hub.service"},
	// Debian's hub (the GitHub command line tool) also installs /usr/bin/hub.
	conflicts: []string{"hub"},
}}

// sources lists every file under packaging/ that a package takes as it is;
// build checks them all before building anything.
func sources(dir string) []string {
	var out []string
	for _, p := range packages {
		for _, u := range p.units {
			out = append(out, filepath.Join(dir, "systemd", u))
		}
	}
	out = append(out, filepath.Join(dir, "udev", "99-gatepost.rules"))
	for _, f := range []string{"scripts/postinst", "scripts/prerm", "scripts/postrm", "doc/README.Debian", "doc/copyright"} {
		out = append(out, filepath.Join(dir, filepath.FromSlash(f)))
	}
	return out
}

// checkSources refuses a packaging folder missing any listed file, naming
// each missing one.
func checkSources(dir string) error {
	var missing []string
	for _, s := range sources(dir) {
		if _, err := os.Stat(s); errors.Is(err, fs.ErrNotExist) {
			missing = append(missing, s)
		} else if err != nil {
			return err
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("the packages need files that are not there: %s; add them (or fix the list in tools/package/deb.go) and build again", strings.Join(missing, ", "))
	}
	return nil
}

// build makes every package for every architecture in o.Out and returns
// their paths.
func build(ctx context.Context, o options) ([]string, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	if err := checkSources(o.Packaging); err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp("", "gatepost-package-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	for _, a := range o.Arches {
		if err := buildBinaries(ctx, o, a, filepath.Join(work, a)); err != nil {
			return nil, err
		}
	}
	// The samples come from binaries this machine runs: the built ones
	// when its architecture is in the list, else a build for it.
	host := hostArch()
	if _, err := os.Stat(filepath.Join(work, host)); host == "" || err != nil {
		return nil, fmt.Errorf("this machine's architecture (%s) is not one we build, so the sample configuration cannot be written", host)
	}
	if err := writeConfigs(ctx, filepath.Join(work, host), work); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return nil, fmt.Errorf("make --out folder: %w", err)
	}
	var debs []string
	for _, a := range o.Arches {
		for _, p := range packages {
			path, err := pack(o, p, a, work)
			if err != nil {
				return debs, fmt.Errorf("package %s for %s: %w", p.name, a, err)
			}
			debs = append(debs, path)
		}
	}
	return debs, nil
}

// pack writes one .deb into o.Out.
func pack(o options, p pkgDef, debArch, work string) (string, error) {
	changelog := filepath.Join(work, "doc", p.name, "changelog.gz")
	if err := writeChangelog(changelog, p.name, o.Version); err != nil {
		return "", err
	}
	// Static binaries are the point (CGO_ENABLED=0: one file that runs on
	// any Debian of its architecture); lintian's error for them is told so.
	override := filepath.Join(work, "doc", p.name, "lintian-overrides")
	text := fmt.Sprintf("# Go binaries built with CGO_ENABLED=0 on purpose.\n%s: statically-linked-binary [usr/bin/%s]\n", p.name, p.binary)
	if err := os.WriteFile(override, []byte(text), 0o644); err != nil {
		return "", err
	}
	info := nfpm.WithDefaults(&nfpm.Info{
		Name:          p.name,
		Arch:          debArch,
		Platform:      "linux",
		Version:       o.Version,
		VersionSchema: "none", // the version is Debian's already; nfpm must not rewrite it as semver
		Section:       "misc",
		Priority:      "optional",
		Maintainer:    maintainer,
		Description:   p.summary + "\n" + p.about,
		Homepage:      "https://github.com/gatepost/gatepost",
		Overridables: nfpm.Overridables{
			Depends:    []string{"adduser"},
			Recommends: p.recommends,
			Conflicts:  p.conflicts,
			Contents:   contents(o, p, filepath.Join(work, debArch), changelog, work),
			Scripts: nfpm.Scripts{
				PostInstall: filepath.Join(o.Packaging, "scripts", "postinst"),
				PreRemove:   filepath.Join(o.Packaging, "scripts", "prerm"),
				PostRemove:  filepath.Join(o.Packaging, "scripts", "postrm"),
			},
		},
	})
	if err := info.Validate(); err != nil {
		return "", err
	}
	var buf bytes.Buffer
	if err := deb.Default.Package(info, &buf); err != nil {
		return "", err
	}
	path := filepath.Join(o.Out, deb.Default.ConventionalFileName(info))
	return path, os.WriteFile(path, buf.Bytes(), 0o644)
}

// contents lists one package's files: binary, configuration (a conffile,
// kept on upgrade), units, udev rules and documentation.
func contents(o options, p pkgDef, bin, changelog, work string) files.Contents {
	file := func(src, dst string, mode os.FileMode) *files.Content {
		return &files.Content{Source: src, Destination: dst, FileInfo: &files.ContentFileInfo{Mode: mode}}
	}
	doc := "/usr/share/doc/" + p.name + "/"
	c := files.Contents{
		file(filepath.Join(bin, p.binary), "/usr/bin/"+p.binary, 0o755),
		{
			Source: filepath.Join(work, p.config), Destination: "/etc/gatepost/" + p.config,
			Type: files.TypeConfigNoReplace, FileInfo: &files.ContentFileInfo{Mode: 0o640},
		},
		file(filepath.Join(o.Packaging, "doc", "README.Debian"), doc+"README.Debian", 0o644),
		file(filepath.Join(o.Packaging, "doc", "copyright"), doc+"copyright", 0o644),
		file(changelog, doc+"changelog.gz", 0o644),
		file(filepath.Join(filepath.Dir(changelog), "lintian-overrides"), "/usr/share/lintian/overrides/"+p.name, 0o644),
	}
	for _, u := range p.units {
		c = append(c, file(filepath.Join(o.Packaging, "systemd", u), "/usr/lib/systemd/system/"+u, 0o644))
	}
	if p.udev {
		c = append(c, file(filepath.Join(o.Packaging, "udev", "99-gatepost.rules"), "/usr/lib/udev/rules.d/99-gatepost.rules", 0o644))
	}
	return c
}

// writeChangelog writes the one-entry Debian changelog a native package
// carries, gzipped without a timestamp so builds are reproducible.
func writeChangelog(path, name, version string) error {
	text := fmt.Sprintf("%s (%s) unstable; urgency=medium\n\n  * Built by tools/package from the gatepost module.\n\n -- %s  %s\n",
		name, version, maintainer, time.Unix(0, 0).UTC().Format(time.RFC1123Z))
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return err
	}
	if _, err := zw.Write([]byte(text)); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}
