// Command package builds gatepost's Debian packages, gatepost-kiosk and
// gatepost-hub, for amd64, arm64 and armhf in one run:
//
//	go run ./tools/package [--version 1.4.0] [--out dist] [--arch amd64,arm64,armhf]
//
// It cross-builds static binaries of ./kiosk and ./hub (CGO_ENABLED=0,
// -trimpath, the version stamped into main.version), writes the default
// configuration from the binaries' own samples (`kiosk init`, `hub serve
// --sample-config`) with the paths an installed system uses, and packs
// them with the systemd units, udev rules and maintainer scripts found
// under packaging/ using nfpm as a library. Nothing imports this program;
// it imports nothing of ours (it runs the go tool and the built binaries).
// docs/operations.md ("Packages") says what the packages install.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	opts, err := parseFlags(os.Args[1:])
	if err == nil {
		var debs []string
		debs, err = build(ctx, opts)
		for _, d := range debs {
			fmt.Println(d)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "package:", err)
		os.Exit(1)
	}
}

// parseFlags reads the command line into options; the module is the one
// the current folder belongs to.
func parseFlags(args []string) (options, error) {
	fs := flag.NewFlagSet("package", flag.ContinueOnError)
	version := fs.String("version", "0.0.0~dev", "the packages' version, stamped into the binaries (kiosk --version); Debian syntax: starts with a digit")
	out := fs.String("out", "dist", "the folder the .deb files are written to (made if missing)")
	arch := fs.String("arch", strings.Join(allArches, ","), "the Debian architectures to build, separated by commas")
	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	if fs.NArg() > 0 {
		return options{}, fmt.Errorf("unexpected argument %q: the flags are --version, --out and --arch", fs.Arg(0))
	}
	module, err := moduleRoot()
	if err != nil {
		return options{}, err
	}
	return options{
		Version:   *version,
		Out:       *out,
		Arches:    strings.Split(*arch, ","),
		Module:    module,
		Packaging: module + "/packaging",
	}, nil
}
