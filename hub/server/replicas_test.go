package server

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/gatepost/gatepost/hub/leader"
	"github.com/gatepost/gatepost/hub/link"
	"github.com/gatepost/gatepost/hub/operators"
	"github.com/gatepost/gatepost/hub/pki"
	"github.com/gatepost/gatepost/internal/pgtest"
	"github.com/gatepost/gatepost/internal/testkit"
	"github.com/gatepost/gatepost/protocol"
)

func TestReplicaSettings(t *testing.T) {
	t.Parallel()
	pg := "postgres://db.example/gatepost"
	for _, c := range []struct {
		cfg  Config
		want string // in the error; "" for none
	}{
		{Config{DataDir: "d", Replicas: true, ReplicaID: "hub-2", Broker: "tls://mq.example:8883", Database: pg}, ""},
		{Config{DataDir: "d", Replicas: true, ReplicaID: "hub-2", Database: pg},
			"replicas share an external broker: the embedded one lives in one hub's process; give --broker mqtts://"},
		{Config{DataDir: "d", Replicas: true, ReplicaID: "hub-2", Broker: "tls://mq.example:8883"}, "without PostgreSQL"},
		{Config{DataDir: "d", Replicas: true, ReplicaID: "hub/2", Broker: "tls://mq.example:8883", Database: pg}, `ReplicaID "hub/2" (--replica-id)`},
		{Config{DataDir: "d", Replicas: true, ReplicaID: "hub-2", ShareGroup: "a/b", Broker: "tls://mq.example:8883", Database: pg}, "ShareGroup (--share-group)"},
		{Config{DataDir: "d", ShareGroup: "gatepost-hub"}, "is for replicas: add --replicas"},
	} {
		err := c.cfg.Validate()
		switch {
		case c.want == "" && err != nil:
			t.Errorf("Validate(%+v) = %v, want nil", c.cfg, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("Validate(%+v) = %v, want an error saying %q", c.cfg, err, c.want)
		}
	}
	cfg := Config{Replicas: true, ReplicaID: "hub-2"}.withDefaults()
	if cfg.ShareGroup != DefaultShareGroup {
		t.Errorf("ShareGroup with replicas = %q, want %q", cfg.ShareGroup, DefaultShareGroup)
	}
	if cfg := (Config{}).withDefaults(); cfg.ShareGroup != "" || cfg.ReplicaID == "" {
		t.Errorf("a hub alone: ShareGroup %q, ReplicaID %q; want no group and the host name", cfg.ShareGroup, cfg.ReplicaID)
	}

	lc := link.Config{Username: "gatepost-hub"}
	cfg.replicaLink(&lc)
	if lc.Username != "gatepost-hub-hub-2" || lc.ClientID != lc.Username || lc.ShareGroup != DefaultShareGroup {
		t.Errorf("a replica's link = user %q, id %q, group %q; want gatepost-hub-hub-2 twice and %s", lc.Username, lc.ClientID, lc.ShareGroup, DefaultShareGroup)
	}
	lc = link.Config{Username: "gatepost-hub"}
	Config{}.replicaLink(&lc)
	if lc.Username != "gatepost-hub" || lc.ClientID != "" || lc.ShareGroup != "" {
		t.Errorf("a hub alone's link = %+v, want the login unchanged", lc)
	}
}

// Two replicas on one PostgreSQL (for the leases) and one broker: the
// kiosk's batches are each stored and acked by one of them, the
// once-only jobs run on one, and when it stops they move to the other.
// (Each replica keeps its records in its own SQLite file here: the
// records store on PostgreSQL is another step.)
func TestReplicasShareIngestAndJobs(t *testing.T) {
	db := pgtest.Database(t)
	b := testkit.StartBroker(t)
	var replicas []*Server
	first := t.TempDir()
	for i, id := range []string{"hub-a", "hub-b"} {
		dir := first
		if i > 0 {
			dir = copyDataDir(t, first) // replicas share the first one's secrets
		}
		s, err := Open(t.Context(), Config{DataDir: dir, HTTPListen: "127.0.0.1:0", Broker: b.URL, AllowPlainMQTT: true,
			Replicas: true, ReplicaID: id, Database: db, Logger: testLogger(t)})
		if err != nil {
			t.Fatalf("open replica %s: %v", id, err)
		}
		t.Cleanup(func() { s.Close() })
		if _, err := s.access.registry.Add(t.Context(), site, kiosk, kioskPriv.Public().(ed25519.PublicKey)); err != nil {
			t.Fatal(err)
		}
		select {
		case <-s.Subscribed():
		case <-time.After(deadline):
			t.Fatalf("replica %s did not subscribe", id)
		}
		replicas = append(replicas, s)
	}
	leading := func(s *Server) int {
		n := 0
		for _, st := range s.jobs.lead.Status() {
			if st.Leading {
				n++
			}
		}
		return n
	}
	// Each job's lease is its own: the jobs may all go to one replica or
	// be shared out, as the replicas happened to ask first. Each runs on
	// exactly one.
	testkit.Eventually(t, "each of the four once-only jobs runs on exactly one replica", func() bool {
		held := map[string]int{}
		for _, s := range replicas {
			for _, st := range s.jobs.lead.Status() {
				if st.Leading {
					held[st.Job]++
				}
			}
		}
		for _, n := range held {
			if n != 1 {
				return false
			}
		}
		return len(held) == 4
	})

	k := paho.NewClient(paho.NewClientOptions().AddBroker(b.URL).SetClientID(site + "/" + kiosk))
	if tok := k.Connect(); !tok.WaitTimeout(deadline) || tok.Error() != nil {
		t.Fatalf("kiosk connect: %v", tok.Error())
	}
	defer k.Disconnect(100)
	var mu sync.Mutex
	var acks []uint64
	if tok := k.Subscribe(protocol.AckTopic(site, kiosk), 1, func(_ paho.Client, m paho.Message) {
		a, err := protocol.DecodeAck(m.Payload())
		if err == nil {
			mu.Lock()
			acks = append(acks, a.Contiguous)
			mu.Unlock()
		}
	}); !tok.WaitTimeout(deadline) || tok.Error() != nil {
		t.Fatalf("kiosk subscribe: %v", tok.Error())
	}
	const n = 12
	for i := uint64(1); i <= n; i++ {
		if tok := k.Publish(protocol.EntriesTopic(site, kiosk), 1, false, batch(t, i)); !tok.WaitTimeout(deadline) || tok.Error() != nil {
			t.Fatalf("publish batch %d: %v", i, tok.Error())
		}
	}
	testkit.Eventually(t, fmt.Sprintf("%d acks", n), func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(acks) >= n
	})
	stored := replicas[0].IngestStats().Batches + replicas[1].IngestStats().Batches
	if stored != n {
		t.Errorf("the replicas stored %d batches between them (%d and %d), want %d: each batch once",
			stored, replicas[0].IngestStats().Batches, replicas[1].IngestStats().Batches, n)
	}

	// Refusals are raised by the replica whose ingest refused, whether or
	// not it runs the alert follower.
	for i := 0; ; i++ {
		refusedBy := 0
		for _, s := range replicas {
			if s.IngestStats().Refused[protocol.RefusedNotEnrolled] > 0 {
				refusedBy++
			}
		}
		if refusedBy == 2 {
			break
		}
		if i == 200 {
			t.Fatal("200 batches of kiosks not enrolled did not reach both replicas")
		}
		stranger := fmt.Sprintf("gate-x%d", i)
		if tok := k.Publish(protocol.EntriesTopic(site, stranger), 1, false, []byte("{}")); !tok.WaitTimeout(deadline) || tok.Error() != nil {
			t.Fatalf("publish: %v", tok.Error())
		}
		testkit.Eventually(t, "the stranger's batch refused", func() bool {
			n := uint64(0)
			for _, s := range replicas {
				n += s.IngestStats().Refused[protocol.RefusedNotEnrolled]
			}
			return n > uint64(i)
		})
	}
	for _, s := range replicas {
		testkit.Eventually(t, "a refused alert raised by each replica", func() bool {
			list, err := s.operators.Alerts(t.Context(), 50, operators.StateOpen)
			return err == nil && slices.ContainsFunc(list, func(a operators.Alert) bool { return a.Kind == protocol.AlertRefused })
		})
	}

	// The replica that runs the alert follower stops; every job it ran
	// moves to the other.
	old, other := replicas[0], replicas[1]
	if slices.ContainsFunc(other.jobs.lead.Status(), func(st leader.Status) bool { return st.Job == jobAlerts && st.Leading }) {
		old, other = other, old
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "the other replica takes the once-only jobs", func() bool { return leading(other) == 4 })
	holder, err := (&leader.Postgres{URL: db}).Holder(context.Background(), jobAlerts)
	if err != nil || holder == "" {
		t.Errorf("Holder(alerts) = %q, %v; want the remaining replica", holder, err)
	}
}

// A hub that is the only one runs every once-only job from the start,
// and says so on /metrics.
func TestHubAloneRunsEveryJob(t *testing.T) {
	s := open(t, Config{})
	testkit.Eventually(t, "gatepost_hub_leader 1 for each job", func() bool {
		metrics := scrape(t, s)
		for _, job := range []string{jobAlerts, jobRetention, jobPasses, jobVerify} {
			if !strings.Contains(metrics, fmt.Sprintf("gatepost_hub_leader{job=%q} 1", job)) {
				return false
			}
		}
		return true
	})
	for _, st := range s.Leading() {
		if !st.Leading || st.Since.IsZero() {
			t.Errorf("Leading: %+v, want every job run here since the start", st)
		}
	}
}

// copyDataDir is a copy of a hub's data folder, as an installer makes
// for another replica.
func copyDataDir(t *testing.T, from string) string {
	t.Helper()
	to := filepath.Join(t.TempDir(), "data")
	err := filepath.WalkDir(from, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), info.Mode().Perm())
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, info.Mode().Perm()) // secrets stay 0600
	})
	if err != nil {
		t.Fatal(err)
	}
	return to
}

// Hubs on one database must hold the same downlink key, broker password
// and CA: a hub on a data folder of its own (which makes a downlink key
// of its own) is refused, naming the file to copy, while a copy of the
// first one's folder starts.
func TestReplicasRefuseSecretsNotShared(t *testing.T) {
	db := pgtest.Database(t)
	b := testkit.StartBroker(t)
	open := func(dir, id string) (*Server, error) {
		s, err := Open(t.Context(), Config{DataDir: dir, HTTPListen: "127.0.0.1:0", Broker: b.URL, AllowPlainMQTT: true,
			EnrollListen: Off, Replicas: true, ReplicaID: id, Database: db, Logger: testLogger(t)})
		if err == nil {
			t.Cleanup(func() { s.Close() })
		}
		return s, err
	}
	first := t.TempDir()
	if _, err := open(first, "hub-a"); err != nil {
		t.Fatal(err)
	}
	copied := copyDataDir(t, first)
	if _, err := open(copied, "hub-b"); err != nil {
		t.Fatalf("a replica on a copy of the first one's data folder: %v", err)
	}
	_, err := open(t.TempDir(), "hub-c")
	if err == nil || !strings.Contains(err.Error(), "downlink-signing key (downlink.key in") ||
		!strings.Contains(err.Error(), "copy downlink.key from a running hub") {
		t.Fatalf("a replica on a new data folder: %v; want a refusal naming the downlink key to copy", err)
	}

	// The TLS CA: the first hub to have one records it; a hub without it,
	// or with another, is refused.
	withCA := func() string {
		dir := copyDataDir(t, first)
		if _, err := pki.Init(dir, pki.Options{Names: []string{"hub.example"}}); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	if _, err := open(withCA(), "hub-e"); err != nil {
		t.Fatalf("the first hub with a CA: %v", err)
	}
	if _, err := open(copyDataDir(t, first), "hub-f"); err == nil || !strings.Contains(err.Error(), "has no TLS CA") {
		t.Fatalf("a hub without the CA the others have: %v; want a refusal", err)
	}
	if _, err := open(withCA(), "hub-g"); err == nil || !strings.Contains(err.Error(), "TLS CA (tls/ca.crt in") {
		t.Fatalf("a hub with another CA: %v; want a refusal", err)
	}
}

// The scheduled verify runs on one replica; every replica's console and
// /metrics show its last walk.
func TestEveryReplicaShowsTheLastVerify(t *testing.T) {
	db := pgtest.Database(t)
	b := testkit.StartBroker(t)
	first := t.TempDir()
	var replicas []*Server
	for i, id := range []string{"hub-a", "hub-b"} {
		dir := first
		if i > 0 {
			dir = copyDataDir(t, first)
		}
		s, err := Open(t.Context(), Config{DataDir: dir, HTTPListen: "127.0.0.1:0", Broker: b.URL, AllowPlainMQTT: true,
			EnrollListen: Off, Replicas: true, ReplicaID: id, Database: db, Logger: testLogger(t), VerifyEvery: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		replicas = append(replicas, s)
	}
	testkit.EventuallyState(t, 20*time.Second, "both replicas show a walk, the one that ran it", func() (bool, string) {
		var ran, other time.Time
		for _, s := range replicas {
			own, _, _ := s.verify.Last()
			at, n, err := s.verified()
			if err != nil || n != 0 {
				return false, fmt.Sprintf("verified() = %v, %d, %v", at, n, err)
			}
			if own.IsZero() {
				other = at
			} else {
				ran = at
			}
		}
		return !ran.IsZero() && !other.IsZero(), fmt.Sprintf("the walking replica's %v, the other's %v", ran, other)
	})
	other := replicas[0]
	if own, _, _ := other.verify.Last(); !own.IsZero() {
		other = replicas[1]
	}
	if m := scrape(t, other); !strings.Contains(m, "gatepost_hub_verify_last_timestamp_seconds 1") {
		t.Errorf("/metrics of the replica that did not walk lacks the last walk's time:\n%s", m)
	}
}
