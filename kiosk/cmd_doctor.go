package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatepost/gatepost/hardware/scanner"
	"github.com/gatepost/gatepost/hardware/serialport"
	"github.com/gatepost/gatepost/internal/doctor"
	"github.com/gatepost/gatepost/internal/storeversion"
	"github.com/gatepost/gatepost/kiosk/config"
	"github.com/gatepost/gatepost/kiosk/daemon"
	"github.com/gatepost/gatepost/kiosk/enrollment"
	"github.com/gatepost/gatepost/kiosk/journal"
	"github.com/gatepost/gatepost/kiosk/screen"
	"github.com/gatepost/gatepost/protocol"
)

// doctorTimeout bounds each check that waits on a device or the network.
const doctorTimeout = 5 * time.Second

// ackOld is how long unsynced entries may wait for the hub's ack before
// the doctor warns.
const ackOld = time.Hour

func newDoctorCmd(now func() time.Time) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check what an installer would check by hand: configuration, devices, journal, disk, enrollment, broker, sync, passes, screen",
		Long: "Each line is OK, WARN or FAIL; a line that is not OK says what to do, in Chinese and English.\n" +
			"Exits 1 if a check failed. Beside a running kiosk, the devices and the link are read from it;\n" +
			"otherwise the doctor opens the devices and logs in to the broker itself.",
		Args: cobra.NoArgs,
	}
	conf := addConfigFlag(cmd, "")
	asJSON := addJSONFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		r := kioskDoctor(cmd.Context(), conf.path, now)
		if err := r.Print(cmd.OutOrStdout(), asJSON.on); err != nil {
			return err
		}
		if r.Failed() {
			return doctor.ErrFailed
		}
		return nil
	}
	return cmd
}

// kioskDoctor runs every check of the kiosk whose configuration is at path.
func kioskDoctor(ctx context.Context, path string, now func() time.Time) *doctor.Report {
	r := new(doctor.Report)
	cfg, err := config.Load(path)
	if err != nil {
		r.Fail("configuration", err.Error(), "修改配置文件中指出的项目，或用 kiosk init 重新生成", "fix the named setting in "+path+", or write a new file with `kiosk init`")
		return r
	}
	r.OK("configuration", path+" is valid")
	st, running := runningState(ctx, cfg)
	if running {
		r.OK("screen", "answers at http://"+cfg.Screen.Listen+"/")
	} else {
		r.Warn("screen", "no answer at http://"+cfg.Screen.Listen+"/: the kiosk is not running",
			"启动闸机程序：systemctl start gatepost-kiosk", "start the kiosk: systemctl start gatepost-kiosk")
	}
	checkDevices(ctx, r, cfg, st, running)
	j := checkJournal(ctx, r, cfg)
	if j != nil {
		defer j.Close()
	}
	checkDisk(r, cfg)
	answer, enrolled := checkEnrolled(r, cfg)
	if enrolled {
		checkBroker(ctx, r, answer, st, running)
	}
	if j != nil {
		checkSync(ctx, r, j, now())
	}
	checkPasses(ctx, r, cfg, j, now)
	return r
}

// runningState asks a running kiosk's screen for its state.
func runningState(ctx context.Context, cfg config.Config) (screen.State, bool) {
	var st screen.State
	ctx, cancel := context.WithTimeout(ctx, doctorTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+cfg.Screen.Listen+"/api/state", nil)
	if err != nil {
		return st, false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return st, false
	}
	defer resp.Body.Close()
	return st, resp.StatusCode == http.StatusOK && json.NewDecoder(resp.Body).Decode(&st) == nil
}

func checkDevices(ctx context.Context, r *doctor.Report, cfg config.Config, st screen.State, running bool) {
	if cfg.Thermometer.Simulate || cfg.Scanner.Simulate {
		r.Warn("simulated devices", "thermometer simulated: "+fmt.Sprint(cfg.Thermometer.Simulate)+", scanner simulated: "+fmt.Sprint(cfg.Scanner.Simulate),
			"模拟设备会编造扫码和体温：在配置中设 simulate = false 并填写真实端口", "simulated devices invent scans and temperatures: set simulate = false and the real ports")
	}
	if running {
		for _, d := range st.Devices {
			if d.State == "connected" {
				r.OK(d.Name, "connected on "+d.Port)
			} else {
				r.Fail(d.Name, d.State+" on "+d.Port+": "+d.Detail,
					"检查设备的线缆和端口设置（kiosk ports 列出端口）", "check the device's cable and its port in the configuration (`kiosk ports` lists them)")
			}
		}
		return
	}
	if !cfg.Thermometer.Simulate {
		checkThermometer(ctx, r, cfg)
	}
	if !cfg.Scanner.Simulate {
		checkScanner(r, cfg)
	}
}

func checkThermometer(ctx context.Context, r *doctor.Report, cfg config.Config) {
	fix := func(found string) {
		r.Fail("thermometer", found, "检查体温计的线缆、端口和波特率（kiosk probe thermometer 可试读）",
			"check the thermometer's cable, port and baud rate (`kiosk probe thermometer` reads it)")
	}
	th, _, path, err := openThermometer(cfg.Thermometer)
	if err != nil {
		fix(err.Error())
		return
	}
	defer th.Close()
	ctx, cancel := context.WithTimeout(ctx, doctorTimeout)
	defer cancel()
	rd, err := th.Read(ctx)
	if err != nil {
		fix(fmt.Sprintf("%s opens but does not answer: %v", path, err))
		return
	}
	// Nobody stands in front of it: a plausible reading is the room's,
	// not a forehead's.
	if v := rd.Screened(0); !(v > -30 && v < 80) {
		fix(fmt.Sprintf("%s answers %.1f °C, not a plausible reading", path, v))
		return
	}
	r.OK("thermometer", fmt.Sprintf("%s answers %.1f °C", path, rd.Screened(0)))
}

func checkScanner(r *doctor.Report, cfg config.Config) {
	c := cfg.Scanner
	path := c.Port
	var err error
	if c.Driver == "serial" {
		path, err = serialport.Resolve(c.Port)
	}
	if err == nil {
		var s scanner.Scanner
		if s, err = scanner.Open(path, c.Settings()); err == nil {
			s.Close()
			r.OK("scanner", path+" opens")
			return
		}
	}
	r.Fail("scanner", explain(err, c.Port, c.Baud).Error(), "检查扫码器的线缆和端口（kiosk probe scanner 可试扫）",
		"check the scanner's cable and port (`kiosk probe scanner` shows what it reads)")
}

// checkJournal runs SQLite's quick_check on the journal, read-only.
func checkJournal(ctx context.Context, r *doctor.Report, cfg config.Config) *journal.Journal {
	j, err := openJournal(cfg, readOnly)
	if errors.Is(err, os.ErrNotExist) {
		r.Warn("journal", "no journal yet in "+cfg.DataDir, "首次运行时会自动创建", "the kiosk makes it when it first runs")
		return nil
	}
	if errors.Is(err, storeversion.ErrNewer) {
		r.Fail("journal", err.Error(), "journal.db 由较新版本的 gatepost 写入：重新安装那个版本，或恢复升级前用 kiosk backup 做的备份",
			"journal.db was written by a newer gatepost: install that version again, or restore the backup `kiosk backup` made before the upgrade")
		return nil
	}
	if err == nil {
		err = j.QuickCheck(ctx)
	}
	if err != nil {
		r.Fail("journal", err.Error(), "停止闸机，备份数据目录后联系支持；勿删除 journal.db，未同步的记录在其中",
			"stop the kiosk, copy the data folder, and get help; do not delete journal.db: unsynced entries are in it")
		if j != nil {
			j.Close()
		}
		return nil
	}
	// OpenReadOnly refused a newer journal; an older one is migrated by
	// the kiosk when it starts.
	v, err := storeversion.ReadFile(ctx, filepath.Join(cfg.DataDir, daemon.JournalFile))
	switch {
	case err != nil:
		r.Fail("journal", err.Error(), "停止闸机，备份数据目录后联系支持", "stop the kiosk, copy the data folder, and get help")
	case v < journal.SchemaVersion:
		r.Warn("journal", fmt.Sprintf("quick_check ok; schema version %d, this kiosk knows %d", v, journal.SchemaVersion),
			"闸机启动时会升级 journal.db；先用 kiosk backup 备份", "the kiosk upgrades journal.db when it starts; take a `kiosk backup` first")
	default:
		r.OK("journal", fmt.Sprintf("quick_check ok; schema version %d", v))
	}
	return j
}

func checkDisk(r *doctor.Report, cfg config.Config) {
	// A data folder not made yet will be on its nearest existing parent's disk.
	dir := cfg.DataDir
	var fs syscall.Statfs_t
	for syscall.Statfs(dir, &fs) != nil {
		if parent := filepath.Dir(dir); parent != dir {
			dir = parent
			continue
		}
		r.Fail("disk", "cannot read the free space of "+cfg.DataDir, "修正 data_dir", "fix data_dir")
		return
	}
	free, min := int64(fs.Bavail)*int64(fs.Bsize), cfg.Retention.MinFreeBytes
	found := fmt.Sprintf("%d MiB free in %s (minimum %d MiB)", free>>20, cfg.DataDir, min>>20)
	switch {
	case free < min:
		r.Fail("disk", found, "清理磁盘空间；已同步的旧记录会按保留期清除", "free disk space; acknowledged entries are purged after retention.max_age")
	case free < 2*min:
		r.Warn("disk", found, "磁盘空间快用完了，请尽快清理", "the disk is nearly at its minimum: free space soon")
	default:
		r.OK("disk", found)
	}
}

func checkEnrolled(r *doctor.Report, cfg config.Config) (a protocol.EnrollAnswer, ok bool) {
	a, enrolled, err := enrollment.Load(cfg.DataDir)
	switch {
	case err != nil:
		r.Fail("enrollment", err.Error(), "重新登记：kiosk enroll CODE", "enroll again: kiosk enroll CODE")
	case !enrolled:
		r.Fail("enrollment", "not enrolled: the hub refuses this kiosk", "在中心运行 hub kiosks enroll 取得登记码，然后运行 kiosk enroll CODE",
			"get a code with `hub kiosks enroll` at the hub, then run `kiosk enroll CODE`")
	default:
		r.OK("enrollment", a.Username+" at "+a.Broker)
	}
	return a, err == nil && enrolled
}
