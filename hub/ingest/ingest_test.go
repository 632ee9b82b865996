package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gatepost/gatepost/hub/records"
	"github.com/gatepost/gatepost/internal/clock"
	"github.com/gatepost/gatepost/protocol"
	"github.com/gatepost/gatepost/protocol/protocoltest"
)

var (
	t0      = protocoltest.T0
	hubTime = time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC)
)

const site, kiosk = "huamu-1", "gate-1"

// published is one message the fake Publish received.
type published struct {
	topic string
	ack   protocol.Ack
}

// harness is an Ingest on a real SQLite store, with a recording Publish and
// a log buffer.
type harness struct {
	in    *Ingest
	clock *clock.Fake
	store *records.SQLite
	acks  []published
	log   bytes.Buffer
}

func newHarness(tb testing.TB) *harness {
	tb.Helper()
	store, err := records.Open(filepath.Join(tb.TempDir(), "hub.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { store.Close() })
	h := &harness{store: store, clock: clock.NewFake(hubTime)}
	h.in = &Ingest{
		Store:  store,
		Logger: slog.New(slog.NewTextHandler(&h.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Clock:  h.clock,
		Publish: func(_ context.Context, topic string, payload []byte) error {
			ack, err := protocol.DecodeAck(payload)
			if err != nil {
				tb.Errorf("published ack %s does not decode: %v", payload, err)
			}
			if len(ack.Head) != 64 && ack.Contiguous > 0 {
				tb.Errorf("published ack %s names no chain head", payload)
			}
			ack.Head = "" // the chain's own tests check it (chain_test.go)
			h.acks = append(h.acks, published{topic, ack})
			return nil
		},
	}
	return h
}

func entry(k string, seq uint64) protocol.Entry {
	return protocoltest.Entry(protocoltest.Kiosk(k), protocoltest.Seq(seq), protocoltest.NoReading(),
		protocoltest.ID(fmt.Sprintf("0190d6e4-7a4b-7cc0-8b8e-%012x", seq%(1<<48))), protocoltest.Scan("GP1:resident:3-502"))
}

// wire encodes a batch from kiosk k at site s holding seqs.
func wire(tb testing.TB, s, k string, seqs ...uint64) []byte {
	tb.Helper()
	b := protocol.Batch{Kiosk: k, Site: s, Sent: t0.Add(time.Hour)}
	for _, seq := range seqs {
		b.Entries = append(b.Entries, entry(k, seq))
	}
	data, err := protocol.EncodeBatch(b)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// snapshot is everything the store holds.
func (h *harness) snapshot(tb testing.TB) string {
	tb.Helper()
	es, err := h.store.Entries(tb.Context(), records.Query{})
	if err != nil {
		tb.Fatal(err)
	}
	ks, err := h.store.Kiosks(tb.Context())
	if err != nil {
		tb.Fatal(err)
	}
	return fmt.Sprintf("%+v\n%+v", es, ks)
}

func TestHandle(t *testing.T) {
	topic := protocol.EntriesTopic(site, kiosk)
	ackTopic := protocol.AckTopic(site, kiosk)
	type outcome int
	const (
		ok outcome = iota
		rejected
	)
	steps := []struct {
		name    string
		topic   string
		payload []byte
		want    outcome
		ack     int64  // contiguous acked, -1 for no ack
		highest uint64 // highest held, in the ack
		logged  string // in the log
		changes bool   // the store changes
	}{
		{"good batch acked", topic, wire(t, site, kiosk, 1, 2, 3), ok, 3, 3, "batch stored", true},
		{"duplicate batch re-acked", topic, wire(t, site, kiosk, 1, 2, 3), ok, 3, 3, "duplicates=3", true},
		{"gap batch acks lower contiguous", topic, wire(t, site, kiosk, 5, 6), ok, 3, 6, "contiguous=3", true},
		{"gap filled", topic, wire(t, site, kiosk, 4), ok, 6, 6, "contiguous=6", true},
		{"kiosk differs from topic", topic, wire(t, site, "gate-2", 7), rejected, -1, 0, "reason=identity_mismatch", false},
		{"site differs from topic", topic, wire(t, "other-site", kiosk, 7), rejected, -1, 0, "problem=\"batch from other-site/gate-1 on the topic of huamu-1/gate-1\"", false},
		{"topic of another kiosk", protocol.EntriesTopic(site, "gate-2"), wire(t, site, kiosk, 7), rejected, -1, 0, "security: message naming another site or kiosk", false},
		{"not an entries topic", ackTopic, wire(t, site, kiosk, 7), rejected, -1, 0, "bad topic", false},
		{"garbage", topic, []byte("\x00\xffnot json"), rejected, -1, 0, "bad batch", false},
		{"empty payload", topic, nil, rejected, -1, 0, "bad batch", false},
		{"unknown version", topic, bytes.Replace(wire(t, site, kiosk, 7), []byte(`"v":1`), []byte(`"v":2`), 1), rejected, -1, 0, "unsupported version 2", false},
		{"field error named", topic, bytes.Replace(wire(t, site, kiosk, 7), []byte(`"kind":"check"`), []byte(`"kind":"party"`), 1), rejected, -1, 0, `entries[0].kind: unknown kind`, false},
		{"seq beyond storage", topic, wire(t, site, kiosk, 1<<63), rejected, -1, 0, "entries[0].seq: must be at most", false},
	}
	h := newHarness(t)
	rejections := 0
	for _, st := range steps {
		h.acks, h.log = nil, bytes.Buffer{}
		h.clock.Advance(time.Minute) // past the log's limit of a line a minute per kiosk and reason
		before := h.snapshot(t)
		err := h.in.Handle(t.Context(), st.topic, st.payload)
		switch st.want {
		case ok:
			if err != nil {
				t.Errorf("%s: Handle = %v, want nil", st.name, err)
			}
		case rejected:
			rejections++
			if !errors.Is(err, ErrRejected) {
				t.Errorf("%s: Handle = %v, want ErrRejected", st.name, err)
			}
		}
		if st.ack < 0 {
			if len(h.acks) != 0 {
				t.Errorf("%s: published %+v, want no ack", st.name, h.acks)
			}
		} else {
			want := []published{{ackTopic, protocol.Ack{Kiosk: kiosk, Contiguous: uint64(st.ack), Highest: st.highest, Time: h.clock.Now()}}}
			if !reflect.DeepEqual(h.acks, want) {
				t.Errorf("%s: published %+v, want %+v", st.name, h.acks, want)
			}
		}
		if !strings.Contains(h.log.String(), st.logged) {
			t.Errorf("%s: log %q does not contain %q", st.name, h.log.String(), st.logged)
		}
		if after := h.snapshot(t); !st.changes && after != before {
			t.Errorf("%s: store changed:\n%s\nwas\n%s", st.name, after, before)
		}
	}
	got := h.in.Stats()
	want := Stats{Batches: 4, Inserted: 6, Duplicates: 3, Rejected: uint64(rejections), Mismatched: 3,
		Skewed:  4, // the fixture kiosk clock is an hour ahead of the hub
		Refused: refusedCounts(protocol.RefusedIdentity, 3, protocol.RefusedBadMessage, 6)}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Stats = %+v, want %+v", got, want)
	}
}

func TestHandleConflictLoggedAndAcked(t *testing.T) {
	h := newHarness(t)
	topic := protocol.EntriesTopic(site, kiosk)
	if err := h.in.Handle(t.Context(), topic, wire(t, site, kiosk, 1, 2)); err != nil {
		t.Fatal(err)
	}
	forged := bytes.Replace(wire(t, site, kiosk, 2), []byte(`"allow"`), []byte(`"deny"`), 1)
	h.acks = nil
	if err := h.in.Handle(t.Context(), topic, forged); err != nil {
		t.Fatalf("Handle(conflicting) = %v, want nil (refused entry, batch handled)", err)
	}
	if !strings.Contains(h.log.String(), "security: entries differ") || !strings.Contains(h.log.String(), "seqs=[2]") {
		t.Errorf("log %q does not report the conflict on seq 2", h.log.String())
	}
	if len(h.acks) != 1 || h.acks[0].ack.Contiguous != 2 {
		t.Errorf("acks = %+v, want one with contiguous 2", h.acks)
	}
	if s := h.in.Stats(); s.Conflicts != 1 {
		t.Errorf("Stats().Conflicts = %d, want 1", s.Conflicts)
	}
}

func TestHandleFailures(t *testing.T) {
	topic := protocol.EntriesTopic(site, kiosk)
	t.Run("store fails", func(t *testing.T) {
		published := false
		in := &Ingest{
			Store: storeFunc(func(context.Context, protocol.Batch, time.Time) (records.Saved, error) {
				return records.Saved{}, errors.New("disk full")
			}),
			Publish: func(context.Context, string, []byte) error { published = true; return nil },
		}
		err := in.Handle(t.Context(), topic, wire(t, site, kiosk, 1))
		if err == nil || errors.Is(err, ErrRejected) || !strings.Contains(err.Error(), "disk full") {
			t.Errorf("Handle = %v, want the storage error, not ErrRejected", err)
		}
		if published {
			t.Error("acked a batch that was not stored")
		}
		if s := in.Stats(); s.StoreErrors != 1 || s.Batches != 0 {
			t.Errorf("Stats = %+v, want 1 store error, 0 batches", s)
		}
	})
	t.Run("publish fails", func(t *testing.T) {
		h := newHarness(t)
		h.in.Publish = func(context.Context, string, []byte) error { return errors.New("not connected") }
		err := h.in.Handle(t.Context(), topic, wire(t, site, kiosk, 1))
		if err == nil || errors.Is(err, ErrRejected) {
			t.Errorf("Handle = %v, want a publish error", err)
		}
		if c, _ := h.store.Contiguous(t.Context(), kiosk); c != 1 {
			t.Errorf("Contiguous = %d, want 1: the batch is stored even if the ack is not sent", c)
		}
		if s := h.in.Stats(); s.AckFailures != 1 {
			t.Errorf("Stats().AckFailures = %d, want 1", s.AckFailures)
		}
	})
}

// storeFunc is a Store made of a function, for failures a real store will
// not produce on demand.
type storeFunc func(context.Context, protocol.Batch, time.Time) (records.Saved, error)

func (f storeFunc) SaveBatch(ctx context.Context, b protocol.Batch, t time.Time) (records.Saved, error) {
	return f(ctx, b, t)
}

var _ Store = (*records.SQLite)(nil)

func (f storeFunc) SaveStatus(context.Context, protocol.Status, time.Time) (bool, error) {
	return true, nil
}

// TestHandleReplacedJournal: a kiosk whose journal was replaced sends
// entries numbered from 1 again under a new journal id. Nothing is
// stored, no conflict is counted, the event is logged in plain words and
// counted, and the ack names the hub's journal and where it stands.
func TestHandleReplacedJournal(t *testing.T) {
	const journalA, journalB = "0190d6e4-7a4b-7cc0-8b8e-00000000000a", "0190d6e4-7a4b-7cc0-8b8e-00000000000b"
	h := newHarness(t)
	topic := protocol.EntriesTopic(site, kiosk)
	named := func(journal string, idTail string, seqs ...uint64) []byte {
		b := protocol.Batch{Kiosk: kiosk, Site: site, Journal: journal, Sent: hubTime}
		for _, seq := range seqs {
			e := entry(kiosk, seq)
			e.ID = e.ID[:len(e.ID)-len(idTail)] + idTail
			b.Entries = append(b.Entries, e)
		}
		data, err := protocol.EncodeBatch(b)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	if err := h.in.Handle(t.Context(), topic, named(journalA, "", 1, 2, 3)); err != nil {
		t.Fatal(err)
	}
	if want := (protocol.Ack{Kiosk: kiosk, Contiguous: 3, Journal: journalA, Highest: 3, Time: hubTime}); len(h.acks) != 1 || h.acks[0].ack != want {
		t.Fatalf("acks = %+v, want %+v", h.acks, want)
	}
	h.acks, h.log = nil, bytes.Buffer{}
	entries := func() string {
		es, err := h.store.Entries(t.Context(), records.Query{})
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("%+v", es)
	}
	before := entries()
	if err := h.in.Handle(t.Context(), topic, named(journalB, "bbb", 1, 2)); err != nil {
		t.Fatalf("Handle(replaced journal) = %v, want nil", err)
	}
	// The kiosk was heard from (last seen, batches), but no entry changed.
	if after := entries(); after != before {
		t.Errorf("entries changed:\n%s\nwas\n%s", after, before)
	}
	if want := (protocol.Ack{Kiosk: kiosk, Contiguous: 3, Journal: journalA, Highest: 3, Time: hubTime}); len(h.acks) != 1 || h.acks[0].ack != want {
		t.Errorf("acks = %+v, want %+v", h.acks, want)
	}
	for _, want := range []string{"gate-1 sent entries from a new journal (" + journalB, "the hub holds journal " + journalA + " up to 3",
		"the kiosk will renumber its entries after 3"} {
		if !strings.Contains(h.log.String(), want) {
			t.Errorf("log %q does not say %q", h.log.String(), want)
		}
	}
	if s := h.in.Stats(); s.Replaced != 1 || s.Conflicts != 0 || s.Inserted != 3 {
		t.Errorf("Stats = %+v, want 1 replaced, no conflicts, 3 inserted", s)
	}
	// A kiosk from before journal ids is handled as before.
	h.acks = nil
	if err := h.in.Handle(t.Context(), topic, wire(t, site, kiosk, 4)); err != nil {
		t.Fatal(err)
	}
	if len(h.acks) != 1 || h.acks[0].ack.Contiguous != 4 {
		t.Errorf("acks = %+v, want contiguous 4", h.acks)
	}
}

// refusedCounts is Stats.Refused with the given reason, count pairs and
// every other reason at 0.
func refusedCounts(pairs ...any) map[string]uint64 {
	m := map[string]uint64{}
	for _, r := range protocol.RefusalReasons {
		m[r] = 0
	}
	for i := 0; i < len(pairs); i += 2 {
		m[pairs[i].(string)] = uint64(pairs[i+1].(int))
	}
	return m
}

// A status or batch that arrives as the hub stops (the kiosks' last wills, when
// the demo or a service stops) is not stored, and that is said at info
// level: no storage error is counted or logged as one.
func TestWhileStoppingIsNoStorageError(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := h.in.Handle(ctx, protocol.StatusTopic("site-1", "gate-1"), statusOf(t, "site-1", "gate-1")); err == nil {
		t.Fatal("Handle with the hub stopping stored the status")
	}
	// A batch too: nothing stored, no ack, the kiosk sends it again.
	payload, err := protocol.EncodeBatch(protocol.Batch{Kiosk: "gate-1", Site: "site-1", Sent: hubTime, Entries: []protocol.Entry{entry("gate-1", 1)}})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.in.Handle(ctx, protocol.EntriesTopic("site-1", "gate-1"), payload); err == nil || len(h.acks) != 0 {
		t.Fatalf("Handle of a batch with the hub stopping = %v, %d acks; want an error and none", err, len(h.acks))
	}
	if got := h.in.Stats().StoreErrors; got != 0 {
		t.Errorf("StoreErrors = %d, want 0", got)
	}
	if log := h.log.String(); strings.Contains(log, "level=ERROR") || strings.Count(log, "the hub is stopping") != 2 {
		t.Errorf("log = %q, want an info line saying the hub is stopping", log)
	}
	// With the hub running, the same status is stored.
	if err := h.in.Handle(t.Context(), protocol.StatusTopic("site-1", "gate-1"), statusOf(t, "site-1", "gate-1")); err != nil {
		t.Fatalf("Handle = %v", err)
	}
}
