// Command demo runs a whole gatepost system on one machine: a hub with its
// embedded MQTT broker and SQLite store, and kiosks whose thermometer and
// scanner are simulators on real pseudo-terminals, read through the real
// serial drivers. It prints the guard-screen and operator-page addresses
// and stops cleanly on Ctrl-C.
//
//	go run ./demo
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/gatepost/gatepost/hub/server"
	"github.com/gatepost/gatepost/internal/clock"
	"github.com/gatepost/gatepost/kiosk/config"
	"github.com/gatepost/gatepost/kiosk/daemon"
)

func main() {
	data := flag.String("data", "demo-data", "folder for the hub's and kiosks' data (kept between runs)")
	kiosks := flag.Int("kiosks", 2, "how many simulated kiosks")
	every := flag.Duration("every", 3*time.Second, "mean gap between simulated scans at each kiosk")
	host := flag.String("host", "127.0.0.1", "address to listen on")
	mqttPort := flag.Int("mqtt-port", 1883, "embedded broker's plain port, on 127.0.0.1 only (0: any free port)")
	mqttsPort := flag.Int("mqtts-port", 8883, "embedded broker's TLS port, which the kiosks use (0: any free port)")
	enrollPort := flag.Int("enroll-port", 8443, "the hub's HTTPS enrollment port (0: any free port)")
	hubPort := flag.Int("console-port", 8081, "operators' page port (0: any free port)")
	screenPort := flag.Int("screen-port", 8090, "first guard screen's port; kiosk N uses this+N-1 (0: any free port)")
	verbose := flag.Bool("v", false, "log every entry")
	flag.Parse()

	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, log, *data, *kiosks, *every, *host, ports{*mqttPort, *mqttsPort, *enrollPort, *hubPort, *screenPort}); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func addr(host string, port int) string { return fmt.Sprintf("%s:%d", host, port) }

// ports are the demo's listening ports.
type ports struct{ mqtt, mqtts, enroll, hub, screen int }

func run(ctx context.Context, log *slog.Logger, data string, kiosks int, every time.Duration, host string, p ports) error {
	if kiosks < 1 || kiosks > 20 {
		return fmt.Errorf("-kiosks %d: must be 1 to 20", kiosks)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	hubData := filepath.Join(data, "hub")
	tokens, err := demoPasses(ctx, hubData)
	if err != nil {
		return fmt.Errorf("issue the demo's passes: %w", err)
	}
	adminPW, err := demoAdmin(ctx, hubData)
	if err != nil {
		return fmt.Errorf("create the console's admin: %w", err)
	}
	if err := demoTLS(hubData, host); err != nil {
		return fmt.Errorf("the hub's certificates: %w", err)
	}
	if err := markTestSite(ctx, hubData, site); err != nil {
		return fmt.Errorf("mark the demo's compound as a test site: %w", err)
	}
	hub, err := server.Open(ctx, server.Config{
		DataDir:      hubData,
		MQTTListen:   addr("127.0.0.1", p.mqtt),
		MQTTSListen:  addr(host, p.mqtts),
		EnrollListen: addr(host, p.enroll),
		HTTPListen:   addr(host, p.hub),
		Logger:       log.With("program", "hub"),
	})
	if err != nil {
		return fmt.Errorf("start hub: %w", err)
	}
	defer hub.Close()
	fmt.Printf("hub      broker %s (kiosks: TLS, enrolled at https://%s)\n         operators' page %s\n", hub.BrokerURL(), hub.EnrollAddr(), hub.ConsoleURL())
	fmt.Printf("console  %sops/ sign in as admin, password %s\n", hub.ConsoleURL(), adminPW)
	fmt.Printf("passes   %d residents' passes of %s in %s (one revoked, one under home observation)\n",
		len(tokens), site, filepath.Join(hubData, "hub.db"))

	var wg sync.WaitGroup
	errc := make(chan error, kiosks)
	for i := 1; i <= kiosks; i++ {
		cfg := config.Demo()
		cfg.Kiosk = fmt.Sprintf("gate-%d", i)
		cfg.Site = site
		cfg.DataDir = filepath.Join(data, cfg.Kiosk)
		cfg.MQTT.Broker = hub.BrokerURL()
		cfg.Scanner.SimulateEvery = config.Duration(every)
		// A fever's second reading comes after a short rest in the demo.
		cfg.Rules.RecheckAfter = config.Duration(10 * time.Second)
		if err := enrollKiosk(ctx, hub, hubData, cfg); err != nil {
			cancel()
			wg.Wait()
			return fmt.Errorf("enroll kiosk %s: %w", cfg.Kiosk, err)
		}
		port := 0
		if p.screen != 0 {
			port = p.screen + i - 1
		}
		cfg.Screen.Listen = addr(host, port)
		d, err := daemon.Open(cfg, log.With("program", "kiosk", "kiosk", cfg.Kiosk), clock.Real())
		if err != nil {
			cancel()
			wg.Wait()
			return fmt.Errorf("start kiosk %s: %w", cfg.Kiosk, err)
		}
		d.SimulatePeople(tokens)
		fmt.Printf("%-8s guard screen %s\n", cfg.Kiosk, d.ScreenURL())
		wg.Go(func() {
			defer d.Close()
			if err := d.Run(ctx); err != nil {
				errc <- fmt.Errorf("kiosk %s: %w", cfg.Kiosk, err)
			}
		})
	}
	fmt.Println("simulated scans arriving; press Ctrl-C to stop")
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	cancel()
	wg.Wait()
	fmt.Println("stopped")
	return err
}
