package daemon

import (
	"context"
	"net/http"
	"time"

	"github.com/gatepost/gatepost/kiosk/uplink"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metricsHandler serves the kiosk's counters in the Prometheus text
// format. Every value is read at scrape time from the part that owns it
// (uplink stats, journal status), so nothing is counted twice and there is
// no global registry.
func (d *Daemon) metricsHandler() http.Handler {
	reg := prometheus.NewRegistry()
	// The runtime's and the process's own figures (go_goroutines,
	// go_memstats_*, process_resident_memory_bytes, process_open_fds): what
	// a soak or an operator watches for leaks.
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	labels := prometheus.Labels{"kiosk": d.cfg.Kiosk, "site": d.cfg.Site}
	gauge := func(name, help string, f func() float64) {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: "gatepost_kiosk", Name: name, Help: help, ConstLabels: labels}, f))
	}
	counter := func(name, help string, f func() float64) {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: "gatepost_kiosk", Name: name, Help: help, ConstLabels: labels}, f))
	}
	status := func() (unsynced, oldestAge float64) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		st, err := d.journal.Status(ctx)
		if err != nil {
			return -1, -1
		}
		if st.OldestUnsynced != nil {
			oldestAge = d.clk.Since(*st.OldestUnsynced).Seconds()
		}
		return float64(st.Unsynced), oldestAge
	}
	gauge("unsynced_entries", "Entries the hub has not acknowledged.", func() float64 { u, _ := status(); return u })
	gauge("oldest_unsynced_age_seconds", "Age of the oldest unacknowledged entry (kiosk clock), 0 when none.",
		func() float64 { _, a := status(); return a })
	gauge("online", "1 when the MQTT link to the hub is up.", func() float64 { return b2f(d.uplink.Online()) })
	gauge("last_ack_timestamp_seconds", "When an ack last moved the synced position (0: not since start).", func() float64 {
		if t := d.uplink.LastAck(); !t.IsZero() {
			return float64(t.UnixNano()) / 1e9
		}
		return 0
	})
	gauge("disk_low", "1 when the journal's disk has less free space than retention.min_free_bytes.",
		func() float64 { return b2f(d.diskLow.Load()) })
	gauge("fever_threshold_celsius", "The fever line in force.", d.gate.Fever)
	counter("journal_write_failures_total", "Entries that could not be journaled.",
		func() float64 { return float64(d.gate.WriteFailures()) })
	counter("screen_refused_total", "Requests the guard's screen refused: not from its own page (cross-origin, no key, not JSON, a host name).",
		func() float64 { return float64(d.screen.Refused()) })
	counter("purged_entries_total", "Acknowledged entries deleted by retention.",
		func() float64 { return float64(d.purged.Load()) })
	counter("journal_checkpoints_total", "Idle-time checkpoints that folded the journal's write-ahead log into the database.",
		func() float64 { return float64(d.journal.CheckpointStats().Runs) })
	counter("journal_checkpoint_failures_total", "Idle-time checkpoints that failed (the log stays; nothing is lost).",
		func() float64 { return float64(d.journal.CheckpointStats().Failures) })
	up := func(f func(s uplink.Stats) uint64) func() float64 {
		return func() float64 { return float64(f(d.uplink.Stats())) }
	}
	counter("batches_sent_total", "Batches published on the entries topic (resends included).", up(func(s uplink.Stats) uint64 { return s.Batches }))
	counter("alerts_sent_total", "Alert entries published ahead of the queue.", up(func(s uplink.Stats) uint64 { return s.Alerts }))
	counter("entries_sent_total", "Entries published (resends included).", up(func(s uplink.Stats) uint64 { return s.Entries }))
	counter("batches_compressed_total", "Batches sent gzipped.", up(func(s uplink.Stats) uint64 { return s.Compressed }))
	counter("acks_total", "Hub acks that moved the synced position.", up(func(s uplink.Stats) uint64 { return s.Acks }))
	counter("reconnects_total", "Connections to the broker after the first.", up(func(s uplink.Stats) uint64 { return s.Reconnects }))
	counter("resends_total", "Rewinds to the last ack (reconnect or ack timeout).", up(func(s uplink.Stats) uint64 { return s.Resends }))
	counter("publish_failures_total", "Publishes that failed or timed out.", up(func(s uplink.Stats) uint64 { return s.PublishFailures }))
	counter("bad_messages_total", "Acks or downlinks refused as malformed or misaddressed.", up(func(s uplink.Stats) uint64 { return s.BadMessages }))
	counter("acks_ahead_total", "Acks refused for acknowledging entries this kiosk had not sent (never the hub's own).",
		up(func(s uplink.Stats) uint64 { return s.AcksAhead }))
	counter("hub_regressions_total", "Rewinds to a hub's lower ack: the hub kept acknowledging less than it had (it lost entries), and the kiosk sent again from there.",
		up(func(s uplink.Stats) uint64 { return s.HubRegressions }))
	counter("journal_rebases_total", "Renumberings of the journal after a replaced journal's entries held by the hub.",
		up(func(s uplink.Stats) uint64 { return s.Rebases }))
	gauge("sync_blocked", "1 when entries cannot be synced until a person acts (the screen and kiosk status say why).",
		func() float64 { return b2f(d.uplink.Problem() != "") })
	counter("downlinks_refused_total", "Downlinks refused because they did not verify against the hub's downlink key pinned at enrollment (all of them when not enrolled); nothing of them is stored.",
		up(func(s uplink.Stats) uint64 { return s.DownlinksRefused }))
	gauge("enrolled", "1 when the kiosk is enrolled at the hub (its login, CA and downlink key come from the enrollment).",
		func() float64 { return b2f(d.enrolled) })
	counter("downlinks_applied_total", "Downlink messages newer than the one held.", up(func(s uplink.Stats) uint64 { return s.Downlinks }))
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
