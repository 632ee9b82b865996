package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// sample is what one process looked like at one moment. A figure that
// could not be read is -1.
type sample struct {
	at    time.Duration // since the soak started
	name  string        // gate-1, …, hub
	kiosk bool
	rssMB float64 // resident memory (VmRSS)
	// peakMB is the most it has been resident since it started (VmHWM),
	// between samples too.
	peakMB float64
	// anonMB is the resident memory not backed by a file (RssAnon): the
	// Go heap and SQLite's allocations, without the program's own pages,
	// which processes of one binary share.
	anonMB float64
	// heapMB is the Go heap in use (go_memstats_heap_inuse_bytes).
	heapMB     float64
	goroutines float64
	fds        float64 // entries in /proc/PID/fd
	storeMB    float64 // journal.db or hub.db, with its write-ahead log
	// written is entries journaled (the kiosk's last sequence number) or
	// stored (the hub's entries_inserted_total).
	written  float64
	acked    float64 // the kiosk's acked sequence number; -1 for the hub
	unsynced float64 // the kiosk's entries the hub has not acked
}

const mb = 1 << 20

// sample reads every process once.
func (sys *system) sample(ctx context.Context, at time.Duration) []sample {
	var out []sample
	for _, k := range sys.kiosks {
		s := procSample(ctx, at, filepath.Base(k.dataDir), k.proc, k.metrics)
		s.kiosk = true
		var st struct {
			Bytes    int64  `json:"journal_bytes"`
			LastSeq  uint64 `json:"last_seq"`
			AckedSeq uint64 `json:"acked_seq"`
			Unsynced uint64 `json:"unsynced"`
		}
		if err := sys.run(ctx, &st, "kiosk", "status", "--json", "--config", k.cfgPath); err == nil {
			s.storeMB, s.written, s.acked, s.unsynced = float64(st.Bytes)/mb, float64(st.LastSeq), float64(st.AckedSeq), float64(st.Unsynced)
		} else {
			fmt.Fprintf(os.Stderr, "soak: %s: %v\n", s.name, err)
		}
		out = append(out, s)
	}
	s := procSample(ctx, at, "hub", sys.hub, sys.hubMetrics)
	s.storeMB = float64(fileSize(filepath.Join(sys.hubData, "hub.db"))+fileSize(filepath.Join(sys.hubData, "hub.db-wal"))) / mb
	s.acked, s.unsynced = -1, -1
	return append(out, s)
}

// procSample reads a process's memory and open files from /proc and its
// heap, goroutines and, for the hub, entries stored from its /metrics.
func procSample(ctx context.Context, at time.Duration, name string, p *proc, metricsURL string) sample {
	s := sample{at: at, name: name, rssMB: -1, peakMB: -1, anonMB: -1, heapMB: -1, goroutines: -1, fds: -1, storeMB: -1, written: -1, acked: -1, unsynced: -1}
	pid := p.cmd.Process.Pid
	if kb, err := statusKB(fmt.Sprintf("/proc/%d/status", pid), "VmRSS"); err == nil {
		s.rssMB = kb / 1024
	}
	if kb, err := statusKB(fmt.Sprintf("/proc/%d/status", pid), "VmHWM"); err == nil {
		s.peakMB = kb / 1024
	}
	if kb, err := statusKB(fmt.Sprintf("/proc/%d/status", pid), "RssAnon"); err == nil {
		s.anonMB = kb / 1024
	}
	if fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid)); err == nil {
		s.fds = float64(len(fds))
	}
	m, err := scrape(ctx, metricsURL)
	if err != nil {
		fmt.Fprintf(os.Stderr, "soak: %s: %v\n", name, err)
		return s
	}
	if v, ok := m["go_memstats_heap_inuse_bytes"]; ok {
		s.heapMB = v / mb
	}
	if v, ok := m["go_goroutines"]; ok {
		s.goroutines = v
	}
	if v, ok := m["gatepost_hub_entries_inserted_total"]; ok {
		s.written = v
	}
	return s
}

// statusKB reads a "Key:   123 kB" line of a /proc/PID/status file.
func statusKB(path, key string) (float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), key+":"); ok {
			return strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 64)
		}
	}
	return 0, fmt.Errorf("%s has no %s line", path, key)
}

// scrape fetches a /metrics page.
func scrape(ctx context.Context, url string) (map[string]float64, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return parseMetrics(resp.Body)
}

// parseMetrics reads the Prometheus text format into name → value, the
// values of a name's labelled series summed (the soak reads only
// unlabelled figures and totals). Comments and lines it cannot read are
// skipped.
func parseMetrics(r io.Reader) (map[string]float64, error) {
	m := map[string]float64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		name := line
		if i := strings.IndexAny(line, "{ "); i >= 0 {
			name = line[:i]
		}
		rest := line[len(name):]
		if strings.HasPrefix(rest, "{") {
			// Label values may hold spaces and braces inside quotes.
			end := labelsEnd(rest)
			if end < 0 {
				continue
			}
			rest = rest[end+1:]
		}
		fields := strings.Fields(rest)
		if name == "" || len(fields) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			continue
		}
		m[name] += v
	}
	return m, sc.Err()
}

// labelsEnd is the index of the '}' closing the label set s starts with,
// or -1.
func labelsEnd(s string) int {
	quoted, escaped := false, false
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case escaped:
			escaped = false
		case c == '\\' && quoted:
			escaped = true
		case c == '"':
			quoted = !quoted
		case c == '}' && !quoted:
			return i
		}
	}
	return -1
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}
