package server

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gatepost/gatepost/hub/broker"
	"github.com/gatepost/gatepost/hub/ingest"
	"github.com/gatepost/gatepost/hub/operators"
	"github.com/gatepost/gatepost/protocol"
)

// metricsHandler serves the hub's counters and per-kiosk fleet state in
// the Prometheus text format, read at scrape time; no global registry.
func (s *Server) metricsHandler() http.Handler {
	reg := prometheus.NewRegistry()
	// The runtime's and the process's own figures (go_goroutines,
	// go_memstats_*, process_resident_memory_bytes, process_open_fds): what
	// a soak or an operator watches for leaks.
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	counter := func(name, help string, f func(ingest.Stats) uint64) {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: "gatepost_hub", Name: name, Help: help},
			func() float64 { return float64(f(s.ingest.Stats())) }))
	}
	counter("batches_total", "Batches stored and acknowledged (duplicates included).", func(st ingest.Stats) uint64 { return st.Batches })
	counter("entries_inserted_total", "Entries newly stored: its rate is the ingest rate.", func(st ingest.Stats) uint64 { return st.Inserted })
	counter("entries_duplicate_total", "Entries received again, identical, ignored.", func(st ingest.Stats) uint64 { return st.Duplicates })
	counter("entries_conflict_total", "Entries refused because a different entry is held (security events).", func(st ingest.Stats) uint64 { return st.Conflicts })
	counter("alerts_total", "Batches received on alerts topics.", func(st ingest.Stats) uint64 { return st.Alerts })
	counter("admit_errors_total", "Messages dropped because the kiosk register could not be read (kiosks resend them).", func(st ingest.Stats) uint64 { return st.AdmitErrors })
	counter("store_errors_total", "Batches not stored because storage failed.", func(st ingest.Stats) uint64 { return st.StoreErrors })
	counter("ack_failures_total", "Acks that could not be published.", func(st ingest.Stats) uint64 { return st.AckFailures })
	counter("skewed_batches_total", "Batches from a kiosk whose clock was off by more than the limit.", func(st ingest.Stats) uint64 { return st.Skewed })
	counter("replaced_journal_batches_total", "Batches from a kiosk journal other than the one held (a replaced journal): nothing stored, the kiosk is told to renumber.",
		func(st ingest.Stats) uint64 { return st.Replaced })
	counter("batches_deferred_total", "Batches a group commit left for the next because another replica was storing their kiosk's batches (lock contention between replicas).",
		func(st ingest.Stats) uint64 { return st.Deferred })
	counter("stale_wills_total", "Last wills of kiosk connections already replaced by a new one, ignored.", func(st ingest.Stats) uint64 { return st.StaleWills })
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "gatepost_hub", Name: "inbox_dropped_total",
		Help: "Messages dropped because ingest was behind (kiosks resend them)."},
		func() float64 { return float64(s.link.Dropped()) }))
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "gatepost_hub", Name: "inbox_held_total",
		Help: "Batches that found ingest's queue full and waited for room while the broker held the rest (back-pressure, nothing dropped)."},
		func() float64 { return float64(s.link.Held()) }))
	reg.MustRegister(&rejectedCollector{s: s})
	if s.broker != nil {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: broker.OversizeMetric,
			Help: "MQTT packets the embedded broker refused as too large, closing the connection."},
			func() float64 { return float64(s.broker.OversizeCount()) }))
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "gatepost_hub", Name: "broker_refused_total",
			Help: "What the embedded broker refused: connections (anonymous, a wrong secret, a retired or unknown kiosk, another's client id) and topics a client may not use."},
			func() float64 { return float64(s.access.refused.Load()) }))
	}
	reg.MustRegister(&enrollRefusedCollector{s: s})
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "gatepost_hub", Name: "verify_findings",
		Help: "Entries the last scheduled walk of the stored chains found changed, deleted or inserted in hub storage (hub verify lists them); 0 before the first walk."},
		func() float64 { _, n, _ := s.verified(); return float64(n) }))
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "gatepost_hub", Name: "verify_last_timestamp_seconds",
		Help: "When the last scheduled walk of the stored chains ended (unix seconds; 0 before the first)."},
		func() float64 {
			at, _, _ := s.verified()
			if at.IsZero() {
				return 0
			}
			return float64(at.Unix())
		}))
	reg.MustRegister(&fleetCollector{s: s})
	reg.MustRegister(s.jobs.lead) // gatepost_hub_leader{job}: which once-only jobs this replica runs
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}

// metricsWithToken serves h on the console's port only to a script
// holding an admin's API token (`hub tokens`): the metrics name every
// compound's kiosks. Without --metrics-listen this is how Prometheus
// scrapes the hub.
func (s *Server) metricsWithToken(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="gatepost hub metrics"`)
			http.Error(w, "The hub's metrics need an admin's API token: send Authorization: Bearer TOKEN (hub tokens add LABEL --user ADMIN), "+
				"or serve them on their own address with hub serve --metrics-listen.", http.StatusUnauthorized)
			return
		}
		sess, label, err := s.operators.TokenSession(r.Context(), strings.TrimSpace(bearer))
		switch {
		case errors.Is(err, operators.ErrNoToken):
			s.log.Warn("metrics: refused an unknown or revoked API token", "remote", r.RemoteAddr)
			w.Header().Set("WWW-Authenticate", `Bearer realm="gatepost hub metrics", error="invalid_token"`)
			http.Error(w, "Unknown or revoked API token, or its user is disabled: make one with hub tokens add LABEL --user ADMIN.", http.StatusUnauthorized)
		case err != nil:
			s.log.Error("metrics: read the API token", "err", err)
			http.Error(w, "The hub could not check the token: see its log.", http.StatusInternalServerError)
		case !sess.User.Admin:
			s.log.Warn("metrics: refused a token of a user who is not an admin", "token", label, "user", sess.User.Name)
			http.Error(w, "The hub's metrics cover every compound: use an API token of an admin.", http.StatusForbidden)
		default:
			h.ServeHTTP(w, r)
		}
	})
}

// enrollRefusedCollector reports the enrollment listener's refusals by
// reason (hub/enroll's Reason*).
type enrollRefusedCollector struct{ s *Server }

var descEnrollRefused = prometheus.NewDesc("gatepost_hub_enroll_refused_total",
	"Enrollment requests refused, by reason: a bad, used or expired code, a bad signature, a clock off, too many failures from one address.",
	[]string{"reason"}, nil)

func (c *enrollRefusedCollector) Describe(ch chan<- *prometheus.Desc) { ch <- descEnrollRefused }

func (c *enrollRefusedCollector) Collect(ch chan<- prometheus.Metric) {
	c.s.enroll.refused.Range(func(k, v any) bool {
		ch <- prometheus.MustNewConstMetric(descEnrollRefused, prometheus.CounterValue, float64(v.(*atomic.Uint64).Load()), k.(string))
		return true
	})
}

// rejectedCollector reports every refusal by reason, each reason present
// from the start so a rate can be taken of it: ingest's counts, and the
// link's drops of a full queue as queue_full.
type rejectedCollector struct{ s *Server }

var descRejected = prometheus.NewDesc("gatepost_hub_rejected_total",
	"Messages from kiosks refused, by reason (docs/operations.md says what each means and what to do).", []string{"reason"}, nil)

func (c *rejectedCollector) Describe(ch chan<- *prometheus.Desc) { ch <- descRejected }

func (c *rejectedCollector) Collect(ch chan<- prometheus.Metric) {
	refused := c.s.ingest.Stats().Refused
	refused[protocol.RefusedQueueFull] += c.s.link.Dropped()
	for _, r := range protocol.RefusalReasons {
		ch <- prometheus.MustNewConstMetric(descRejected, prometheus.CounterValue, float64(refused[r]), r)
	}
}

// fleetCollector reports each kiosk's state from the store at scrape time.
type fleetCollector struct{ s *Server }

var (
	descContiguous = prometheus.NewDesc("gatepost_hub_kiosk_contiguous_seq", "The hub holds 1..this of the kiosk.", []string{"site", "kiosk"}, nil)
	descMissing    = prometheus.NewDesc("gatepost_hub_kiosk_missing_entries", "Sequence numbers the hub lacks below the highest it holds.", []string{"site", "kiosk"}, nil)
	descGaps       = prometheus.NewDesc("gatepost_hub_kiosk_gaps", "Ranges of missing sequence numbers.", []string{"site", "kiosk"}, nil)
	descOnline     = prometheus.NewDesc("gatepost_hub_kiosk_online", "1 when the kiosk's presence says online.", []string{"site", "kiosk"}, nil)
	descSkew       = prometheus.NewDesc("gatepost_hub_kiosk_clock_skew_seconds", "Hub clock minus kiosk clock at its latest batch.", []string{"site", "kiosk"}, nil)
	descUnsynced   = prometheus.NewDesc("gatepost_hub_kiosk_reported_unsynced", "Unsynced entries the kiosk last reported.", []string{"site", "kiosk"}, nil)
)

func (c *fleetCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descContiguous, descMissing, descGaps, descOnline, descSkew, descUnsynced} {
		ch <- d
	}
}

func (c *fleetCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ks, err := c.s.store.Kiosks(ctx)
	if err != nil {
		c.s.log.Warn("metrics: cannot read the fleet", "err", err)
		return
	}
	for _, k := range ks {
		gaps, err := c.s.store.Gaps(ctx, k.Kiosk)
		if err != nil {
			continue
		}
		var missing uint64
		for _, g := range gaps {
			missing += g.To - g.From + 1
		}
		online := 0.0
		if k.Online {
			online = 1
		}
		ch <- prometheus.MustNewConstMetric(descContiguous, prometheus.GaugeValue, float64(k.Contiguous), k.Site, k.Kiosk)
		ch <- prometheus.MustNewConstMetric(descMissing, prometheus.GaugeValue, float64(missing), k.Site, k.Kiosk)
		ch <- prometheus.MustNewConstMetric(descGaps, prometheus.GaugeValue, float64(len(gaps)), k.Site, k.Kiosk)
		ch <- prometheus.MustNewConstMetric(descOnline, prometheus.GaugeValue, online, k.Site, k.Kiosk)
		ch <- prometheus.MustNewConstMetric(descSkew, prometheus.GaugeValue, float64(k.SkewMS)/1000, k.Site, k.Kiosk)
		ch <- prometheus.MustNewConstMetric(descUnsynced, prometheus.GaugeValue, float64(k.ReportedUnsynced), k.Site, k.Kiosk)
	}
}
