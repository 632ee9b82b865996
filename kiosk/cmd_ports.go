package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"

	"github.com/gatepost/gatepost/hardware/serialport"
	"github.com/spf13/cobra"
)

// portInfo is one serial port as `kiosk ports` shows it.
type portInfo struct {
	serialport.Info
	ByID   []string `json:"by_id,omitempty"` // stable names under /dev/serial/by-id
	Config string   `json:"config"`          // what to write as port = ... in kiosk.toml
}

func newPortsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ports",
		Short: "List serial ports with their USB IDs, to find the thermometer and scanner",
	}
	asJSON := addJSONFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		list, err := serialport.List()
		if err != nil {
			return err
		}
		byID := stableNames("/dev/serial/by-id")
		ports := make([]portInfo, 0, len(list))
		for _, p := range list {
			pi := portInfo{Info: p, ByID: byID[p.Path], Config: p.Path}
			switch {
			case len(pi.ByID) > 0:
				pi.Config = pi.ByID[0]
			case p.IsUSB && p.Serial != "":
				pi.Config = fmt.Sprintf("usb:%s:%s:%s", p.VID, p.PID, p.Serial)
			case p.IsUSB:
				pi.Config = fmt.Sprintf("usb:%s:%s", p.VID, p.PID)
			}
			ports = append(ports, pi)
		}
		return asJSON.print(cmd.OutOrStdout(), ports, func(out io.Writer) error {
			return printPorts(out, ports)
		})
	}
	return cmd
}

// printPorts is `kiosk ports` for a person: a table.
func printPorts(out io.Writer, ports []portInfo) error {
	if len(ports) == 0 {
		fmt.Fprintln(out, "no serial ports found: plug the device in, and check `dmesg` for a ttyUSB or ttyACM line")
		return nil
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PORT\tVID\tPID\tSERIAL\tPRODUCT\tWRITE IN kiosk.toml")
	for _, p := range ports {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", p.Path, dash(p.VID), dash(p.PID), dash(p.Serial), dash(p.Product), p.Config)
	}
	return tw.Flush()
}

// stableNames maps each device to the symlinks in dir that point at it.
func stableNames(dir string) map[string][]string {
	out := map[string][]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return out // no USB serial devices, or not Linux
	}
	for _, e := range entries {
		link := filepath.Join(dir, e.Name())
		target, err := filepath.EvalSymlinks(link)
		if err != nil {
			continue
		}
		out[target] = append(out[target], link)
	}
	return out
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
