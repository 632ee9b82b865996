package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatepost/gatepost/hardware/serialport"
	"github.com/gatepost/gatepost/hardware/sim"
	"github.com/gatepost/gatepost/hardware/sim/simtest"
	"github.com/gatepost/gatepost/kiosk/config"
	"github.com/gatepost/gatepost/kiosk/daemon"
	"github.com/gatepost/gatepost/kiosk/journal"
	"github.com/gatepost/gatepost/kiosk/screen"
)

func runKiosk(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	root := newRootCmd("test")
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	return out.String(), err
}

func TestProbeThermometer(t *testing.T) {
	t.Parallel()
	dev := simtest.Thermometer(t, sim.ThermometerOptions{Protocol: sim.ModbusRTU})
	dev.SetTemperature(38.2, 24)
	out, err := runKiosk(t, "probe", "thermometer", "--driver", "modbus", "--port", dev.Path(),
		"--address", "64", "--register", "4102", "--ambient-register", "4103", "--count", "2", "--interval", "10ms")
	if err != nil {
		t.Fatalf("probe: %v\n%s", err, out)
	}
	if strings.Count(out, "object  38.20 °C  ambient  24.00 °C  -> plausible") != 2 {
		t.Errorf("probe printed:\n%s\nwant two readings of 38.20/24.00", out)
	}
}

func TestProbeThermometerExplains(t *testing.T) {
	t.Parallel()
	dev := simtest.Thermometer(t, sim.ThermometerOptions{Protocol: sim.GYMCU90614})
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"wrong driver", []string{"--driver", "cjmcu-90614", "--port", dev.Path(), "--reply-timeout", "100ms", "--retries", "0"}, "no reply at 115200 baud"},
		{"no such port", []string{"--port", filepath.Join(t.TempDir(), "ttyUSB9")}, "there is no device at"},
		{"not a serial port", []string{"--port", os.DevNull}, "is not a serial port"},
		{"bad driver", []string{"--driver", "thermo-9000", "--port", dev.Path()}, "thermometer.driver"},
		{"usb id absent", []string{"--port", "usb:FFFF:FFFF"}, "no USB serial device"},
	}
	for _, tt := range tests {
		out, err := runKiosk(t, append([]string{"probe", "thermometer", "--count", "1"}, tt.args...)...)
		if err == nil {
			err = fmt.Errorf("")
		}
		if !strings.Contains(out+err.Error(), tt.want) {
			t.Errorf("%s: printed %q, error %v; want %q", tt.name, out, err, tt.want)
		}
	}
}

func TestProbeScanner(t *testing.T) {
	t.Parallel()
	sc := simtest.Scanner(t, sim.ScannerOptions{})
	done := make(chan struct{})
	var out string
	var err error
	go func() {
		defer close(done)
		out, err = runKiosk(t, "probe", "scanner", "--port", sc.Path(), "--count", "2")
	}()
	// The probe flushes what arrived before it opened the port, so send
	// until it has printed both.
	for i := 0; ; i++ {
		select {
		case <-done:
			if err != nil || !strings.Contains(out, `"GP1:resident:3-502"`) {
				t.Fatalf("probe scanner: %v\n%s", err, out)
			}
			return
		case <-time.After(50 * time.Millisecond):
			sc.Send("GP1:resident:3-502")
		}
	}
}

func TestCalibrate(t *testing.T) {
	t.Parallel()
	dev := simtest.Thermometer(t, sim.ThermometerOptions{Protocol: sim.GYMCU90614})
	dev.SetTemperature(36.5, 25)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "kiosk.toml")
	// No kiosk listens on port 1: status says the kiosk is not running.
	os.WriteFile(cfgPath, []byte(fmt.Sprintf("data_dir = \"data\"\n[screen]\nlisten = \"127.0.0.1:1\"\n[thermometer]\nsimulate = false\nport = %q\n", dev.Path())), 0o644)

	out, err := runKiosk(t, "calibrate", "--config", cfgPath, "--reference", "36.8", "--by", "Wang Min", "--readings", "3", "--interval", "1ms")
	if err != nil {
		t.Fatalf("calibrate: %v\n%s", err, out)
	}
	if !strings.Contains(out, "offset +0.30 °C recorded") {
		t.Errorf("calibrate printed:\n%s\nwant offset +0.30", out)
	}
	if status, err := runKiosk(t, "status", "--config", cfgPath); err != nil || !strings.Contains(status, "calibration +0.30 °C") || !strings.Contains(status, "by Wang Min") {
		t.Errorf("status after calibrating = %q, %v; want the offset and who", status, err)
	}
	j, err := journal.OpenReadOnly(filepath.Join(dir, "data", daemon.JournalFile))
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	c, ok, err := j.CurrentCalibration(context.Background())
	if err != nil || !ok || c.OffsetC != 0.3 || c.By != "Wang Min" || c.ReferenceC != 36.8 || len(c.ReadingsC) != 3 {
		t.Fatalf("recorded calibration = %+v, %v, %v", c, ok, err)
	}

	if _, err := runKiosk(t, "calibrate", "--config", cfgPath, "--reference", "36.8"); err == nil || !strings.Contains(err.Error(), "--by") {
		t.Errorf("calibrate without --by: %v, want it to ask who", err)
	}
}

func TestPortsRuns(t *testing.T) {
	t.Parallel()
	if out, err := runKiosk(t, "ports", "--json"); err != nil || !strings.HasPrefix(strings.TrimSpace(out), "[") {
		t.Fatalf("ports --json = %q, %v", out, err)
	}
}

func TestStatusPrintsDevices(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(screen.State{Devices: []screen.Device{
			{Name: "thermometer", State: "disconnected", Port: "/dev/ttyUSB0", Detail: "device gone"},
			{Name: "scanner", State: "connected", Port: "/dev/ttyACM0"},
		}})
	}))
	defer srv.Close()
	cfg := config.Demo()
	cfg.Screen.Listen = strings.TrimPrefix(srv.URL, "http://")
	var out bytes.Buffer
	printDevices(&out, cfg, nil)
	want := "thermometer disconnected (/dev/ttyUSB0): device gone\nscanner    connected (/dev/ttyACM0)\n"
	if out.String() != want {
		t.Errorf("printDevices printed %q, want %q", out.String(), want)
	}
	srv.Close()
	out.Reset()
	printDevices(&out, cfg, nil)
	if !strings.Contains(out.String(), "not running") {
		t.Errorf("with no kiosk running: %q, want it to say so", out.String())
	}
}

func TestExplainPermission(t *testing.T) {
	t.Parallel()
	for port, group := range map[string]string{"/dev/ttyUSB0": "dialout", "/dev/input/by-id/usb-scanner-event-kbd": "input"} {
		err := explain(fmt.Errorf("open: %w", serialport.ErrPermission), port, 9600)
		if !strings.Contains(err.Error(), "usermod -aG "+group) || !errors.Is(err, serialport.ErrPermission) {
			t.Errorf("explain(permission denied on %s) = %v, want the %s group and the error kept", port, err, group)
		}
	}
}
