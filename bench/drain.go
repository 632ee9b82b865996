package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/gatepost/gatepost/hub/records"
	"github.com/gatepost/gatepost/hub/server"
	"github.com/gatepost/gatepost/kiosk/journal"
	"github.com/gatepost/gatepost/kiosk/uplink"
	"github.com/gatepost/gatepost/protocol"
)

// drainTimeout bounds either side of the drain benchmark.
const drainTimeout = 10 * time.Minute

// benchDrain: a kiosk with n unsynced entries connects to the hub through
// a real Mosquitto on loopback; the figure is the time until the hub has
// stored all n. The baseline is what an integrator would build instead: a
// local Mosquitto with persistence, bridged to a central Mosquitto, the
// same entries published to the local one at QoS 1 while the central one
// is down, and a subscriber on the central one inserting each message
// into SQLite. Its clock starts when the first message reaches the
// subscriber, so the bridge's reconnect delay is not held against it.
//
// Ours and the two bridges run in turns, rounds times, and the figures
// are the medians: on a shared machine the load moves between runs, and
// turns put it on each side alike.
func benchDrain(ctx context.Context, dir string, n, gzipAbove, rounds int, log *slog.Logger) ([]result, error) {
	var ours, plain []time.Duration
	bridges := map[string][]time.Duration{}
	// The subscriber's SQLite durability: NORMAL (generous: no fsync per
	// commit in WAL) and FULL (what the hub pays: every commit on disk).
	type variant struct {
		sync string
		hub  bool
	}
	variants := []variant{{"NORMAL", false}, {"FULL", false}, {"NORMAL", true}, {"FULL", true}}
	name := func(v variant) string {
		if v.hub {
			return v.sync + "+hub-schema"
		}
		return v.sync
	}
	for round := range rounds {
		roundDir := filepath.Join(dir, fmt.Sprintf("drain-%d", round))
		if err := os.MkdirAll(roundDir, 0o750); err != nil {
			return nil, err
		}
		// Ours as deployed (TLS, logins, ACL), ours on plain TCP to an open
		// broker, then each bridge: in turns, so load falls on all alike.
		for _, secure := range []bool{round%2 == 0, round%2 != 0} {
			d, err := drainOurs(ctx, filepath.Join(roundDir, fmt.Sprint("ours-", secure)), n, gzipAbove, secure, log)
			if err != nil {
				return nil, fmt.Errorf("gatepost (secure %v): %w", secure, err)
			}
			if secure {
				ours = append(ours, d)
			} else {
				plain = append(plain, d)
			}
		}
		for _, v := range variants {
			b, err := drainBridge(ctx, filepath.Join(roundDir, name(v)), n, v.sync, v.hub)
			if err != nil {
				return nil, fmt.Errorf("bridge: %w", err)
			}
			bridges[name(v)] = append(bridges[name(v)], b)
		}
		os.RemoveAll(roundDir)
	}
	var out []result
	for _, v := range variants {
		sync := name(v)
		o, b := median(ours), median(bridges[sync])
		var each []string
		for i := range ours {
			each = append(each, fmt.Sprintf("%.2f s vs %.2f s (%.2fx)", ours[i].Seconds(), bridges[sync][i].Seconds(),
				bridges[sync][i].Seconds()/ours[i].Seconds()))
		}
		out = append(out, result{
			name: "drain", unit: "entries/s", ours: float64(n) / o.Seconds(), baseline: float64(n) / b.Seconds(),
			baseName: "bridge+" + sync, higherIsBetter: true,
			detail: fmt.Sprintf("%d entries (gzip above %d bytes), median of %d rounds: gatepost over TLS with logins and the ACL %.2f s (acked end to end), bridge (plain TCP, open) with subscriber at synchronous=%s into %s %.2f s (no end-to-end ack, no gap detection); targets ≥ 3x and ≥ 20,000 entries/s\n        rounds: %s",
				n, gzipAbove, rounds, o.Seconds(), v.sync, table(v.hub), b.Seconds(), strings.Join(each, "; ")),
		})
	}
	var each []string
	for i := range ours {
		each = append(each, fmt.Sprintf("%.2f s vs %.2f s", ours[i].Seconds(), plain[i].Seconds()))
	}
	out = append(out, result{
		name: "drain-tls", unit: "entries/s", ours: float64(n) / median(ours).Seconds(), baseline: float64(n) / median(plain).Seconds(),
		baseName: "ours on plain TCP, open broker", higherIsBetter: true,
		detail: fmt.Sprintf("the cost of TLS, logins and Mosquitto's ACL on the same drain, median of %d rounds in turns: %.2f s vs %.2f s\n        rounds: %s",
			rounds, median(ours).Seconds(), median(plain).Seconds(), strings.Join(each, "; ")),
	})
	return out, nil
}

func table(hub bool) string {
	if hub {
		return "the hub's entries table and indexes"
	}
	return "a bare (kiosk, seq, body) table"
}

// median returns the middle of ds (the upper middle for an even count).
func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func drainOurs(ctx context.Context, dir string, n, gzipAbove int, secure bool, log *slog.Logger) (time.Duration, error) {
	return drainOursWith(ctx, dir, n, gzipAbove, secure, true, log)
}

// drainOursWith is drainOurs with the entry chain and batch signatures on
// (chain) or off on both sides, for the cost benchmark (chaincost.go).
func drainOursWith(ctx context.Context, dir string, n, gzipAbove int, secure, chain bool, log *slog.Logger) (time.Duration, error) {
	addr, err := freeAddr()
	if err != nil {
		return 0, err
	}
	hubDir := filepath.Join(dir, "hub")
	l, err := enrollBench(ctx, dir, hubDir, addr, secure)
	if err != nil {
		return 0, err
	}
	mq, err := startMosquitto(ctx, dir, "ours", addr, "persistence false\nmax_queued_messages 100000\n"+l.extra)
	if err != nil {
		return 0, err
	}
	defer mq.stop()
	// No enrollment listener: its default :8443 (on once `hub tls init`
	// has run) is not the bench's to take.
	hub, err := server.Open(ctx, server.Config{DataDir: hubDir, Broker: l.url, BrokerCA: l.brokerCA,
		HTTPListen: "127.0.0.1:0", EnrollListen: server.Off, Logger: log, NoChain: !chain})
	if err != nil {
		return 0, err
	}
	defer hub.Close()
	select {
	case <-hub.Subscribed():
	case <-time.After(10 * time.Second):
		return 0, errors.New("hub did not subscribe")
	}
	j, err := journal.OpenWith(filepath.Join(dir, "kiosk.db"), "bench-1", journal.Options{NoChain: !chain})
	if err != nil {
		return 0, err
	}
	defer j.Close()
	if !chain {
		l.key = nil // unsigned batches
	}
	for seq := 1; seq <= n; seq += 10_000 {
		var es []protocol.Entry
		for s := seq; s < seq+10_000 && s <= n; s++ {
			e := entry("bench-1", uint64(s))
			es = append(es, e)
		}
		if _, err := j.AppendMany(ctx, es); err != nil {
			return 0, err
		}
	}
	u := uplink.New(uplink.Config{Broker: l.url, Site: "site-1", Kiosk: "bench-1",
		Username: l.user, Password: l.secret, ClientID: l.user, TLS: l.kioskTLS, Key: l.key,
		BatchSize: protocol.MaxBatchEntries, MaxInFlight: 8, AckTimeout: 30 * time.Second, GzipAbove: gzipAbove}, j, log)
	start := time.Now()
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); u.Run(runCtx) }()
	defer func() { stop(); <-done }()
	deadline := time.Now().Add(drainTimeout)
	for hub.IngestStats().Inserted < uint64(n) {
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("hub stored %d of %d in %s", hub.IngestStats().Inserted, n, drainTimeout)
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	return time.Since(start), nil
}

// drainBridge runs the bridge alternative; its subscriber stores each
// message at the given synchronous level, into a bare (kiosk, seq, body)
// table or, with hubSchema, into the hub's own entries table with the
// indexes the console searches by.
func drainBridge(ctx context.Context, dir string, n int, sync string, hubSchema bool) (time.Duration, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return 0, err
	}
	centralAddr, err := freeAddr()
	if err != nil {
		return 0, err
	}
	local, err := queueOnBridge(ctx, dir, n, centralAddr)
	if err != nil {
		return 0, err
	}
	defer local.stop()
	central, err := startMosquitto(ctx, dir, "central", centralAddr, "persistence false\nmax_queued_messages 0\n")
	if err != nil {
		return 0, err
	}
	defer central.stop()
	db, insertSQL, err := openBridgeStore(filepath.Join(dir, "bridge.db"), sync, hubSchema)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	return subscribeAndStore(ctx, central.url(), db, insertSQL, n, hubSchema)
}

// queueOnBridge starts the kiosk's local Mosquitto, bridged to
// centralAddr (down for now), and publishes n entries to it at QoS 1: the
// local broker queues them for the bridge.
func queueOnBridge(ctx context.Context, dir string, n int, centralAddr string) (*mosquitto, error) {
	localAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	persist := filepath.Join(dir, "local-persist") + "/"
	local, err := startMosquitto(ctx, dir, "local", localAddr, "persistence true\npersistence_location "+persist+
		"\nmax_queued_messages 0\nconnection central\naddress "+centralAddr+
		"\ntopic gatepost/# out 1\ncleansession false\nrestart_timeout 1\nbridge_protocol_version mqttv311\n")
	if err != nil {
		return nil, err
	}
	pub := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(local.url()).SetClientID("bench-kiosk").
		SetMaxResumePubInFlight(100))
	if tok := pub.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		local.stop()
		return nil, fmt.Errorf("connect to local broker: %v", tok.Error())
	}
	defer pub.Disconnect(250)
	topic := protocol.EntriesTopic("site-1", "bench-1")
	var toks []mqtt.Token
	for s := 1; s <= n; s++ {
		body, err := protocol.EncodeEntry(entry("bench-1", uint64(s)))
		if err != nil {
			local.stop()
			return nil, err
		}
		toks = append(toks, pub.Publish(topic, 1, false, body))
		if len(toks) == 500 || s == n {
			if err := waitAll(toks); err != nil {
				local.stop()
				return nil, err
			}
			toks = toks[:0]
		}
	}
	return local, nil
}

// openBridgeStore opens the subscriber's database: the hub's own tables
// and indexes (made by the hub's code) with hubSchema, else a bare table.
// It returns the INSERT a subscriber runs per message.
func openBridgeStore(dbPath, sync string, hubSchema bool) (*sql.DB, string, error) {
	insertSQL := `INSERT OR IGNORE INTO entries VALUES (?, ?, ?)`
	if hubSchema {
		st, err := records.Open(dbPath)
		if err != nil {
			return nil, "", err
		}
		if err := st.Close(); err != nil {
			return nil, "", err
		}
		insertSQL = `INSERT INTO entries (kiosk, seq, site, id, time, kind, decision, body, received_at, unit)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (kiosk, seq) DO NOTHING`
	}
	db, err := sql.Open("sqlite", "file:"+dbPath+
		"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous("+sync+")")
	if err != nil {
		return nil, "", err
	}
	db.SetMaxOpenConns(1)
	if hubSchema {
		_, err = db.Exec(`INSERT INTO kiosks (kiosk, site, last_seen) VALUES ('bench-1', 'site-1', 0)`)
	} else {
		_, err = db.Exec(`CREATE TABLE entries (kiosk TEXT NOT NULL, seq INTEGER NOT NULL, body TEXT NOT NULL,
		PRIMARY KEY (kiosk, seq)) WITHOUT ROWID`)
	}
	if err != nil {
		db.Close()
		return nil, "", err
	}
	return db, insertSQL, nil
}

// subscribeAndStore subscribes at brokerURL and stores each message with
// one INSERT, as a bridge's subscriber does, until n are stored. Its time
// starts at the first message through: the bridge reconnects on its own
// schedule (restart_timeout, seconds), and this is generous to it.
func subscribeAndStore(ctx context.Context, brokerURL string, db *sql.DB, insertSQL string, n int, hubSchema bool) (time.Duration, error) {
	var stored atomic.Int64
	var first atomic.Int64 // when the first message reached the subscriber
	inbox := make(chan []byte, 1024)
	go func() {
		for body := range inbox {
			e, err := protocol.DecodeEntry(body)
			if err != nil {
				continue
			}
			args := []any{e.Kiosk, int64(e.Seq), string(body)}
			if hubSchema {
				args = []any{e.Kiosk, int64(e.Seq), "site-1", e.ID, e.Time.Format(time.RFC3339Nano), string(e.Kind),
					string(e.Decision), string(body), time.Now().UnixNano(), e.Unit}
			}
			if _, err := db.Exec(insertSQL, args...); err == nil {
				stored.Add(1)
			}
		}
	}()
	defer close(inbox)
	sub := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(brokerURL).SetClientID("bench-hub").SetOrderMatters(true))
	if tok := sub.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		return 0, fmt.Errorf("connect to central broker: %v", tok.Error())
	}
	defer sub.Disconnect(250)
	tok := sub.Subscribe("gatepost/#", 1, func(_ mqtt.Client, m mqtt.Message) {
		first.CompareAndSwap(0, time.Now().UnixNano())
		inbox <- m.Payload()
	})
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		return 0, fmt.Errorf("subscribe: %v", tok.Error())
	}
	deadline := time.Now().Add(drainTimeout)
	for stored.Load() < int64(n) {
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("subscriber stored %d of %d in %s", stored.Load(), n, drainTimeout)
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	return time.Since(time.Unix(0, first.Load())), nil
}

func waitAll(toks []mqtt.Token) error {
	for _, t := range toks {
		if !t.WaitTimeout(30 * time.Second) {
			return errors.New("publish timed out")
		}
		if err := t.Error(); err != nil {
			return err
		}
	}
	return nil
}
