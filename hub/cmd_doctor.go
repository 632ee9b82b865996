package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/spf13/cobra"

	"github.com/gatepost/gatepost/hub/datadir"
	"github.com/gatepost/gatepost/hub/pki"
	"github.com/gatepost/gatepost/hub/records"
	"github.com/gatepost/gatepost/hub/registry"
	"github.com/gatepost/gatepost/internal/clock"
	"github.com/gatepost/gatepost/internal/doctor"
)

// The hub doctor's thresholds.
const (
	hubDiskFail   = 200 << 20           // below this free space, FAIL
	hubDiskWarn   = 1 << 30             // below this, WARN
	certWarnAhead = 30 * 24 * time.Hour // WARN this long before a certificate expires
)

// doctorFlags are `hub doctor`'s flags.
type doctorFlags struct {
	broker, brokerCA string
	silent           time.Duration
	minFree          int64 // FAIL below this free disk space, WARN below 5 times it
	json             bool
}

func newDoctorCommand(data *hubData, stdout io.Writer) *cobra.Command {
	var f doctorFlags
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check what an operator would check by hand: storage, broker, silent kiosks, disk, certificates, sites in transition",
		Long: "Each line is OK, WARN or FAIL; a line that is not OK says what to do, in Chinese and English.\n" +
			"Exits 1 if a check failed. Safe while `hub serve` runs.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r := hubDoctor(cmd.Context(), data.dir(cmd), f)
			if err := r.Print(stdout, f.json); err != nil {
				return err
			}
			if r.Failed() {
				return doctor.ErrFailed
			}
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.broker, "broker", "tcp://127.0.0.1:1883", "the MQTT broker to log in to as the hub's commands do (tcp:// on this machine, or tls://)")
	fs.StringVar(&f.brokerCA, "broker-ca", "", "PEM file of the CA a tls:// broker's certificate is signed by (default: the hub's own)")
	fs.DurationVar(&f.silent, "silent", 24*time.Hour, "warn about kiosks the hub has not heard from for this long")
	fs.Int64Var(&f.minFree, "min-free-bytes", 200<<20, "fail below this much free disk space in the data folder; warn below five times it")
	fs.BoolVar(&f.json, "json", false, "print JSON for scripts")
	return cmd
}

// hubDoctor runs every check of the hub whose data folder is dir.
func hubDoctor(ctx context.Context, dir datadir.Dir, f doctorFlags) *doctor.Report {
	r := new(doctor.Report)
	dir.Clock = clock.Or(dir.Clock)
	now := dir.Clock.Now()
	if _, err := os.Stat(filepath.Join(dir.Path, "hub.db")); err != nil && dir.Database == "" {
		r.Fail("storage", "no hub.db in "+dir.Path, "检查 --data 是否指向中心的数据目录", "check that --data names the hub's data folder")
		return r
	}
	checkSchemas(ctx, r, dir)
	store, ok := openStorage(ctx, r, dir)
	if !ok {
		return r
	}
	checkHubBroker(r, dir, f)
	if store != nil {
		defer store.Close()
		checkSilent(ctx, r, store, f.silent, now)
	}
	checkHubDisk(r, dir.Path, f.minFree)
	checkCerts(r, dir.Path, now)
	checkTransitions(ctx, r, dir, now)
	return r
}

// checkHubBroker logs in to the broker with the hub commands' account,
// under a client id of its own, so `hub serve`'s session is untouched.
func checkHubBroker(r *doctor.Report, dir datadir.Dir, f doctorFlags) {
	fixNet := [2]string{"检查中心是否在运行（systemctl status gatepost-hub）以及 --broker 地址", "check that the hub runs (systemctl status gatepost-hub) and the --broker address"}
	_, password, err := dir.BrokerLogin()
	if err != nil {
		r.Fail("broker", err.Error(), "检查数据目录的权限", "check the data folder's permissions")
		return
	}
	tc, err := pushTLS(f.broker, f.brokerCA, dir.Path)
	if err != nil {
		r.Fail("broker", err.Error(), "使用 tls:// 地址", "use a tls:// address")
		return
	}
	o := paho.NewClientOptions().AddBroker(f.broker).SetUsername(datadir.HubCLIUser).SetPassword(password).
		SetClientID(fmt.Sprintf("gatepost-doctor-%d", dir.Clock.Now().UnixNano())).SetConnectTimeout(5 * time.Second).
		SetAutoReconnect(false)
	if tc != nil {
		o.SetTLSConfig(tc)
	}
	c := paho.NewClient(o)
	tok := c.Connect()
	switch {
	case !tok.WaitTimeout(6 * time.Second):
		r.Fail("broker", "no answer from "+f.broker, fixNet[0], fixNet[1])
	case tok.Error() != nil:
		r.Fail("broker", fmt.Sprintf("%s: %v", f.broker, tok.Error()), fixNet[0], fixNet[1])
	default:
		c.Disconnect(100)
		r.OK("broker", "logged in to "+f.broker+" as "+datadir.HubCLIUser)
	}
}

func checkSilent(ctx context.Context, r *doctor.Report, store *records.SQLite, silent time.Duration, now time.Time) {
	ks, err := store.Kiosks(ctx)
	if err != nil {
		r.Fail("kiosks", err.Error(), "检查 hub.db", "check hub.db")
		return
	}
	var quiet []string
	for _, k := range ks {
		if !k.LastSeen.IsZero() && now.Sub(k.LastSeen) > silent {
			quiet = append(quiet, fmt.Sprintf("%s/%s (last heard %s ago)", k.Site, k.Kiosk, now.Sub(k.LastSeen).Round(time.Minute)))
		}
	}
	if len(quiet) > 0 {
		r.Warn("kiosks", fmt.Sprintf("%d of %d silent for over %s: %v", len(quiet), len(ks), silent, quiet),
			"到现场检查这些闸机（kiosk doctor）：电源、网络", "visit these gates and run `kiosk doctor` there: power, network")
		return
	}
	r.OK("kiosks", fmt.Sprintf("%d kiosks, none silent for over %s", len(ks), silent))
}

func checkHubDisk(r *doctor.Report, path string, minFree int64) {
	var fs syscall.Statfs_t
	if err := syscall.Statfs(path, &fs); err != nil {
		r.Fail("disk", err.Error(), "检查数据目录", "check the data folder")
		return
	}
	free := int64(fs.Bavail) * int64(fs.Bsize)
	found := fmt.Sprintf("%d MiB free in %s (minimum %d MiB)", free>>20, path, minFree>>20)
	switch {
	case free < minFree:
		r.Fail("disk", found, "立即清理磁盘空间（hub purge 清除过期记录）", "free disk space now (`hub purge` removes entries past retention)")
	case free/5 < minFree:
		r.Warn("disk", found, "磁盘空间快用完了，请尽快清理", "the disk is nearing its minimum: free space soon")
	default:
		r.OK("disk", found)
	}
}

func checkCerts(r *doctor.Report, dataDir string, now time.Time) {
	files, err := pki.Load(dataDir)
	if errors.Is(err, os.ErrNotExist) {
		r.Warn("certificate", "no TLS certificate: kiosks can reach this hub only over plain MQTT on this machine",
			"运行 hub tls init --name 主机名", "run `hub tls init --name HOST`")
		return
	}
	if err != nil {
		r.Fail("certificate", err.Error(), "运行 hub tls renew", "run `hub tls renew`")
		return
	}
	until := files.Leaf.NotAfter
	if files.CA.NotAfter.Before(until) {
		until = files.CA.NotAfter
	}
	found := fmt.Sprintf("valid until %s (%s)", until.Format(time.DateOnly), files.Names())
	switch {
	case now.After(until):
		r.Fail("certificate", "expired: "+found, "运行 hub tls renew 后重启中心", "run `hub tls renew`, then restart the hub")
	case until.Sub(now) < certWarnAhead:
		r.Warn("certificate", "expires soon: "+found, "运行 hub tls renew 后重启中心", "run `hub tls renew`, then restart the hub")
	default:
		r.OK("certificate", found)
	}
}

func checkTransitions(ctx context.Context, r *doctor.Report, dir datadir.Dir, now time.Time) {
	if unmerged, err := dir.Unmerged(); err == nil && len(unmerged) > 0 {
		// Opening the register would merge them: that is for `hub serve`.
		r.Warn("transitions", "not read: the hub merges "+strings.Join(unmerged, ", ")+" into hub.db when it next opens its data",
			"先用 hub backup 备份，再启动中心", "take a `hub backup`, then start the hub")
		return
	}
	var ts []registry.Transition
	reg, err := dir.OpenRegistry()
	if err == nil {
		defer reg.Close()
		ts, err = reg.Transitions(ctx)
	}
	if err != nil {
		r.Fail("transitions", err.Error(), "检查 hub.db 的终端登记", "check the kiosk register in hub.db")
		return
	}
	n := 0
	for _, t := range ts {
		if !t.Active {
			continue
		}
		n++
		r.Warn("transition "+t.Site, fmt.Sprintf("unenrolled kiosks of %s are still taken until %s (%s from now)", t.Site,
			t.Deadline.Format(time.DateTime), t.Deadline.Sub(now).Round(time.Minute)),
			"截止前为该小区的每台闸机登记（hub kiosks enroll），否则未登记的闸机将被拒绝",
			"enroll every kiosk of the site before the deadline (`hub kiosks enroll`): after it, unenrolled kiosks are refused")
	}
	if n == 0 {
		r.OK("transitions", "no site in transition")
	}
}
