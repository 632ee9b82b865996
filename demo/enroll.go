package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/gatepost/gatepost/hub/datadir"
	"github.com/gatepost/gatepost/hub/enroll"
	"github.com/gatepost/gatepost/hub/pki"
	"github.com/gatepost/gatepost/hub/server"
	"github.com/gatepost/gatepost/kiosk/config"
	"github.com/gatepost/gatepost/kiosk/enrollment"
	"github.com/gatepost/gatepost/kiosk/identity"
)

// demoTLS makes the demo hub's CA and server certificate once, as `hub
// tls init --name 127.0.0.1 --name localhost` does, so that its broker is
// closed and served over TLS from the first start, like a real hub's.
func demoTLS(hubData, host string) error {
	if _, err := os.Stat(filepath.Join(hubData, pki.Dir, pki.CACert)); err == nil {
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	names := []string{"127.0.0.1", "localhost"}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback() && !ip.IsUnspecified()) {
		names = append(names, host)
	}
	_, err := pki.Init(hubData, pki.Options{Names: names})
	return err
}

// enrollKiosk enrolls a demo kiosk the way an installer does with a link:
// the hub makes a one-time code (the code `hub kiosks enroll` runs), and
// the kiosk redeems it over the hub's pinned HTTPS (the code `kiosk enroll
// CODE` runs) and keeps the answer. A kiosk enrolled on an earlier run is
// left as it is.
func enrollKiosk(ctx context.Context, hub *server.Server, hubData string, cfg config.Config) error {
	if _, enrolled, err := enrollment.Load(cfg.DataDir); err != nil || enrolled {
		return err
	}
	reg, err := datadir.Dir{Path: hubData}.OpenRegistry()
	if err != nil {
		return err
	}
	defer reg.Close()
	files, err := pki.Load(hubData)
	if err != nil {
		return err
	}
	code, _, err := enroll.NewCode(ctx, reg, files, hub.EnrollAddr(), cfg.Site, cfg.Kiosk, 10*time.Minute)
	if err != nil {
		return fmt.Errorf("enrollment code: %w", err)
	}
	key, _, err := identity.LoadOrCreate(cfg.DataDir)
	if err != nil {
		return err
	}
	a, err := enrollment.Redeem(ctx, code, key.Private, cfg.Site, cfg.Kiosk, time.Now())
	if err != nil {
		return fmt.Errorf("redeem the code: %w", err)
	}
	return enrollment.Save(cfg.DataDir, a)
}

// markTestSite marks the demo's compound as a test site (`hub kiosks
// test-site`): its kiosks run simulated devices, whose entries the hub
// takes from test sites only.
func markTestSite(ctx context.Context, hubData, site string) error {
	reg, err := datadir.Dir{Path: hubData}.OpenRegistry()
	if err != nil {
		return err
	}
	defer reg.Close()
	return reg.SetTestSite(ctx, site, true)
}
