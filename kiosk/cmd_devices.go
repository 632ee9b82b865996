package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/gatepost/gatepost/kiosk/config"
	"github.com/gatepost/gatepost/kiosk/journal"
	"github.com/gatepost/gatepost/kiosk/screen"
)

// printDevices adds to `kiosk status` the thermometer's calibration, from
// the journal, and the running kiosk's device states, asked of its screen
// server (a kiosk that is not running has none).
func printDevices(out io.Writer, cfg config.Config, j *journal.Journal) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if j != nil {
		switch c, ok, err := j.CurrentCalibration(ctx); {
		case err != nil:
			fmt.Fprintf(out, "calibration unknown: %v\n", err)
		case !ok:
			fmt.Fprintln(out, "calibration none (offset 0)")
		default:
			fmt.Fprintf(out, "calibration %+.2f °C, %s by %s (reference %.2f °C)\n", c.OffsetC, c.Time.Local().Format("2006-01-02 15:04"), c.By, c.ReferenceC)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+cfg.Screen.Listen+"/api/state", nil)
	if err != nil {
		return
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintf(out, "devices    unknown: the kiosk is not running (no answer on %s)\n", cfg.Screen.Listen)
		return
	}
	defer resp.Body.Close()
	var st screen.State
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		fmt.Fprintf(out, "devices    unknown: %v\n", err)
		return
	}
	for _, d := range st.Devices {
		fmt.Fprintf(out, "%-10s %s (%s)", d.Name, d.State, d.Port)
		if d.Detail != "" {
			fmt.Fprintf(out, ": %s", d.Detail)
		}
		fmt.Fprintln(out)
	}
}
