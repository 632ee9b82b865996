package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx", as the hub's stores use

	"github.com/gatepost/gatepost/hub/registry"
)

// fleetPostgres is the PostgreSQL server the fleet benchmark's
// PostgreSQL runs use: a throwaway cluster it started (and stops), or one
// given with -database. Each run gets a database of its own, cloned from
// a template in which the kiosks are enrolled.
type fleetPostgres struct {
	admin    string // URL of a database to run CREATE DATABASE from
	dir      string // the throwaway cluster's folder ("" when given)
	script   string // .ci/postgres, to stop the throwaway cluster
	template string // the database the kiosks are enrolled in
	db       *sql.DB
	prefix   string // of every database the benchmark makes, to drop them
	made     []string
	stats    bool // pg_stat_statements is loaded
}

// startFleetPostgres gives the benchmark its server: the one at given, or
// else a throwaway cluster made with .ci/postgres in a folder of its own. The throwaway
// cluster is made durable as a deployed one is (.ci/postgres turns fsync
// off for the tests' speed; a benchmark against SQLite's synchronous=FULL
// must not) and loads pg_stat_statements, which takes a restart.
func startFleetPostgres(ctx context.Context, given string, out io.Writer) (*fleetPostgres, error) {
	suffix := make([]byte, 4)
	rand.Read(suffix)
	p := &fleetPostgres{admin: given, prefix: "gatepost_fleet_" + hex.EncodeToString(suffix) + "_"}
	if given == "" {
		script, err := ciPostgresScript()
		if err != nil {
			return nil, err
		}
		// Its own folder under /tmp, not the benchmark's: under root the
		// cluster runs as another user, who must reach it (and a socket's
		// path must stay short).
		parent, err := os.MkdirTemp("", "gatepost-fleet-pg-")
		if err != nil {
			return nil, err
		}
		if err := os.Chmod(parent, 0o711); err != nil {
			return nil, err
		}
		p.script, p.dir = script, filepath.Join(parent, "pg")
		started, err := exec.CommandContext(ctx, script, "start", p.dir).Output()
		if err != nil {
			return nil, fmt.Errorf("start a throwaway PostgreSQL with %s: %w", script, exitDetail(err))
		}
		p.admin = strings.TrimSpace(string(started))
		if err := p.makeDurable(ctx); err != nil {
			p.stop()
			return nil, err
		}
		fmt.Fprintf(out, "fleet   PostgreSQL: a throwaway cluster in %s (.ci/postgres), fsync and synchronous_commit on, pg_stat_statements loaded; stopped at the end\n", p.dir)
	} else {
		fmt.Fprintf(out, "fleet   PostgreSQL: the server of -database (its CPU is measured only when the bench started it)\n")
	}
	db, err := sql.Open("pgx", p.admin)
	if err != nil {
		p.stop()
		return nil, err
	}
	p.db = db
	if err := db.PingContext(ctx); err != nil {
		p.stop()
		return nil, fmt.Errorf("PostgreSQL at %s: %w", redactURL(p.admin), err)
	}
	// Statement figures only where the server loads pg_stat_statements:
	// nothing is created on a server that does not.
	var preload string
	if db.QueryRowContext(ctx, "SHOW shared_preload_libraries").Scan(&preload) == nil && strings.Contains(preload, "pg_stat_statements") {
		_, err := db.ExecContext(ctx, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
		p.stats = err == nil
	}
	return p, nil
}

// ciPostgresScript finds .ci/postgres at the module's root.
func ciPostgresScript() (string, error) {
	root, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		return "", fmt.Errorf("find the module's folder: %w", err)
	}
	script := filepath.Join(strings.TrimSpace(string(root)), ".ci", "postgres")
	if _, err := os.Stat(script); err != nil {
		return "", fmt.Errorf("no %s to start PostgreSQL with; give -database postgres://…", script)
	}
	return script, nil
}

// makeDurable turns fsync, full pages and synchronous commits back on and
// loads pg_stat_statements, restarting the cluster.
func (p *fleetPostgres) makeDurable(ctx context.Context) error {
	db, err := sql.Open("pgx", p.admin)
	if err != nil {
		return err
	}
	defer db.Close()
	for _, set := range []string{"fsync = on", "full_page_writes = on", "synchronous_commit = on",
		"shared_preload_libraries = 'pg_stat_statements'"} {
		if _, err := db.ExecContext(ctx, "ALTER SYSTEM SET "+set); err != nil {
			return fmt.Errorf("PostgreSQL: ALTER SYSTEM SET %s: %w", set, err)
		}
	}
	db.Close()
	ctl, err := pgCtl()
	if err != nil {
		return err
	}
	args := []string{ctl, "-D", filepath.Join(p.dir, "data"), "-l", filepath.Join(p.dir, "server.log"), "-w", "-t", "60", "restart"}
	if os.Geteuid() == 0 { // the cluster belongs to the user .ci/postgres made it as
		owner, err := ownerOf(filepath.Join(p.dir, "data"))
		if err != nil {
			return err
		}
		args = append([]string{"runuser", "-u", owner, "--"}, args...)
	}
	if out, err := exec.CommandContext(ctx, args[0], args[1:]...).CombinedOutput(); err != nil {
		return fmt.Errorf("restart PostgreSQL: %v: %s", err, out)
	}
	return nil
}

func pgCtl() (string, error) {
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	if len(found) > 0 {
		slices.SortFunc(found, func(a, b string) int { return pgMajor(b) - pgMajor(a) })
		return found[0], nil
	}
	return exec.LookPath("pg_ctl")
}

func pgMajor(ctl string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(ctl))))
	return n
}

func ownerOf(path string) (string, error) {
	info, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return "", errors.New("no owner for " + path)
	}
	u, err := user.LookupId(strconv.Itoa(int(st.Uid)))
	if err != nil {
		return "", err
	}
	return u.Username, nil
}

// enroll makes the template database and enrolls the kiosks in it with
// their public keys, as `hub --database … kiosks add` does. The broker
// logins stay the ones Mosquitto's files were written with: the hub
// only asks its register whether a kiosk is enrolled and for its key.
func (p *fleetPostgres) enroll(ctx context.Context, kiosks []*fleetKiosk) error {
	p.template = p.prefix + "template"
	if _, err := p.db.ExecContext(ctx, "CREATE DATABASE "+p.template); err != nil {
		return fmt.Errorf("PostgreSQL: create the template database (-database needs a role that may CREATE DATABASE): %w", err)
	}
	p.made = append(p.made, p.template)
	reg, err := registry.OpenPostgres(ctx, p.url(p.template), nil)
	if err != nil {
		return err
	}
	defer reg.Close()
	for _, k := range kiosks {
		if _, err := reg.Add(ctx, k.site, k.name, k.key.Public().(ed25519.PublicKey)); err != nil {
			return err
		}
	}
	return nil
}

// database makes a fresh database for one run, a copy of the template,
// and returns its URL.
func (p *fleetPostgres) database(ctx context.Context, name string) (string, error) {
	db := p.prefix + name
	if _, err := p.db.ExecContext(ctx, "CREATE DATABASE "+db+" TEMPLATE "+p.template); err != nil {
		return "", fmt.Errorf("PostgreSQL: create %s: %w", db, err)
	}
	p.made = append(p.made, db)
	if p.stats {
		p.db.ExecContext(ctx, "SELECT pg_stat_statements_reset()")
	}
	return p.url(db), nil
}

// url is the server's URL naming database db.
func (p *fleetPostgres) url(db string) string {
	u, err := url.Parse(p.admin)
	if err != nil {
		return p.admin
	}
	u.Path = "/" + db
	return u.String()
}

// stop drops the databases the benchmark made and stops the throwaway
// cluster.
func (p *fleetPostgres) stop() {
	if p.db != nil {
		for _, db := range p.made {
			p.db.Exec("DROP DATABASE IF EXISTS " + db + " WITH (FORCE)")
		}
		p.db.Close()
	}
	if p.dir != "" {
		exec.Command(p.script, "stop", p.dir).Run()
		os.Remove(filepath.Dir(p.dir))
	}
}

// cpu is the CPU time the cluster's processes have used so far: the
// postmaster's own and that of its children, those ended (the kernel adds
// them to the postmaster's cutime and cstime when it reaps them) and those
// running. It is known only for the cluster the benchmark started.
func (p *fleetPostgres) cpu() (time.Duration, bool) {
	pid, ok := p.postmaster()
	if !ok {
		return 0, false
	}
	f, ok := procStat(pid)
	if !ok {
		return 0, false
	}
	total := f[11] + f[12] + f[13] + f[14]
	for _, child := range childrenOf(pid) {
		if cf, ok := procStat(child); ok {
			total += cf[11] + cf[12]
		}
	}
	return time.Duration(total) * time.Second / 100, true // USER_HZ
}

// memory is the cluster's proportional set size (each shared page
// counted once over its processes), in MB.
func (p *fleetPostgres) memory() (float64, bool) {
	pid, ok := p.postmaster()
	if !ok {
		return 0, false
	}
	var kb float64
	for _, q := range append(childrenOf(pid), pid) {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", q))
		if err != nil {
			continue
		}
		for line := range strings.Lines(string(data)) {
			if v, ok := strings.CutPrefix(line, "Pss:"); ok {
				n, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
				kb += n
			}
		}
	}
	return kb / 1024, true
}

func (p *fleetPostgres) postmaster() (int, bool) {
	if p.dir == "" {
		return 0, false
	}
	data, err := os.ReadFile(filepath.Join(p.dir, "data", "postmaster.pid"))
	if err != nil {
		return 0, false
	}
	first, _, _ := strings.Cut(string(data), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	return pid, err == nil
}

// procStat is /proc/PID/stat's fields after the command's name, as
// numbers: [0] is the state (0), [1] the parent, [11] utime, [12] stime,
// [13] cutime, [14] cstime.
func procStat(pid int) ([]int64, bool) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil, false
	}
	fields := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+2:]))
	if len(fields) < 15 {
		return nil, false
	}
	nums := make([]int64, len(fields))
	for i, f := range fields {
		nums[i], _ = strconv.ParseInt(f, 10, 64)
	}
	return nums, true
}

func childrenOf(parent int) []int {
	entries, _ := os.ReadDir("/proc")
	var kids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if f, ok := procStat(pid); ok && f[1] == int64(parent) {
			kids = append(kids, pid)
		}
	}
	return kids
}

// statement is one line of pg_stat_statements.
type statement struct {
	calls       int64
	total, mean float64 // ms
	rows        int64
	query       string
}

// slowest is the run database's statements that took the most time in
// all since it was made.
func (p *fleetPostgres) slowest(ctx context.Context, dbURL string, n int) ([]statement, error) {
	if !p.stats {
		return nil, errors.New("pg_stat_statements is not loaded on that server (shared_preload_libraries)")
	}
	u, _ := url.Parse(dbURL)
	rows, err := p.db.QueryContext(ctx, `SELECT calls, total_exec_time, mean_exec_time, rows, query
		FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
		WHERE d.datname = $1 ORDER BY total_exec_time DESC LIMIT $2`, strings.TrimPrefix(u.Path, "/"), n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []statement
	for rows.Next() {
		var s statement
		if err := rows.Scan(&s.calls, &s.total, &s.mean, &s.rows, &s.query); err != nil {
			return nil, err
		}
		s.query = strings.Join(strings.Fields(s.query), " ")
		out = append(out, s)
	}
	return out, rows.Err()
}

func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "the given URL"
	}
	return u.Redacted()
}

func exitDetail(err error) error {
	var ee *exec.ExitError
	if errors.As(err, &ee) && len(ee.Stderr) > 0 {
		return fmt.Errorf("%v: %s", err, strings.TrimSpace(string(ee.Stderr)))
	}
	return err
}
