package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/gatepost/gatepost/kiosk/config"
	"github.com/gatepost/gatepost/kiosk/screen"
)

// printDevices adds the running kiosk's device states to `kiosk status`,
// asked of its screen server; a kiosk that is not running has none.
func printDevices(out io.Writer, cfg config.Config) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
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
