package testkit

import (
	"cmp"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/gatepost/gatepost/protocol"
)

// HubOptions shape a StandInHub.
type HubOptions struct {
	// Drop is how many batches are lost before any reaches the hub (loss
	// between broker and hub).
	Drop int
	// Journal is the journal the hub already holds for every kiosk, with
	// entries 1..Held of it (entry id "old") except the Gaps. Empty: the
	// hub takes the journal of the first batch it stores, as hub/ingest
	// does.
	Journal string
	Held    uint64
	Gaps    []uint64
	// Unnamed: acks name no journal, as a hub from before journal ids.
	Unnamed bool
}

// StandInHub plays the hub's part on the wire for tests of the kiosk: it
// takes every batch on the entries and alerts topics, holds its entries by
// sequence, refuses a batch naming another journal than the one it holds,
// and publishes (retained) the highest contiguous sequence it holds on
// the kiosk's ack topic, as hub/ingest does. Tests of the hub use the
// real hub.
type StandInHub struct {
	client paho.Client

	mu       sync.Mutex
	opts     HubOptions
	journal  string
	held     map[uint64]string // seq -> entry id
	times    map[uint64]int    // seq -> times received
	batches  int
	refused  int
	journals map[string]int // journal named by batches -> batches
	paused   bool
	queued   []protocol.Batch // arrived while paused, not yet stored
}

var hubIDs atomic.Int64

// StartHub connects a stand-in hub to the broker at url; it disconnects
// when the test ends. A test that wants the hub's last ack retained before
// the kiosk connects (a hub holding an earlier journal) calls PublishAck.
func StartHub(tb testing.TB, url string, o HubOptions) *StandInHub {
	tb.Helper()
	h := &StandInHub{opts: o, journal: o.Journal, held: map[uint64]string{}, times: map[uint64]int{}, journals: map[string]int{}}
	for seq := uint64(1); seq <= o.Held; seq++ {
		h.held[seq] = "old"
	}
	for _, g := range o.Gaps {
		delete(h.held, g)
	}
	h.client = paho.NewClient(paho.NewClientOptions().AddBroker(url).
		SetClientID(fmt.Sprintf("stand-in-hub-%d", hubIDs.Add(1))))
	if tok := h.client.Connect(); !tok.WaitTimeout(Wait) || tok.Error() != nil {
		tb.Fatalf("stand-in hub: connect %s: %v", url, tok.Error())
	}
	tb.Cleanup(func() { h.client.Disconnect(0) })
	subs := map[string]byte{protocol.EntriesSubscription: 1, protocol.AlertsSubscription: 1}
	tok := h.client.SubscribeMultiple(subs, func(_ paho.Client, m paho.Message) { h.receive(tb, m) })
	if !tok.WaitTimeout(Wait) || tok.Error() != nil {
		tb.Fatalf("stand-in hub: subscribe: %v", tok.Error())
	}
	return h
}

func (h *StandInHub) receive(tb testing.TB, m paho.Message) {
	b, err := protocol.DecodeBatchPayload(m.Payload())
	if err != nil {
		tb.Errorf("stand-in hub: kiosk sent a bad batch on %s: %v", m.Topic(), err)
		return
	}
	h.mu.Lock()
	h.batches++
	if h.opts.Drop > 0 {
		h.opts.Drop--
		h.mu.Unlock()
		return
	}
	if h.paused {
		h.queued = append(h.queued, b)
		h.mu.Unlock()
		return
	}
	h.mu.Unlock()
	h.store(b)
	// From the message handler publish must not wait: with paho's
	// OrderMatters the handler holds up the client's incoming traffic,
	// PUBACK included, and a wait there stalls until it times out.
	h.PublishAck(b.Site, b.Kiosk)
}

// store holds b's entries, unless it names another journal.
func (h *StandInHub) store(b protocol.Batch) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.journals[b.Journal]++
	if h.journal == "" && len(h.held) == 0 {
		h.journal = b.Journal
	}
	if b.Journal != h.journal && !h.opts.Unnamed {
		h.refused++
	} else {
		for _, e := range b.Entries {
			h.times[e.Seq]++
			if _, ok := h.held[e.Seq]; !ok {
				h.held[e.Seq] = cmp.Or(e.ID, "(no id)")
			}
		}
	}
}

// Pause makes the hub slow: each batch that arrives is counted and
// queued, neither stored nor acked, until Resume, as a hub busy with a
// backlog leaves the batches waiting at the broker.
func (h *StandInHub) Pause() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.paused = true
}

// Resume stores the batches queued while paused, in the order they came,
// and acks them with one ack per kiosk, as the hub's group commit does;
// then it takes each batch as it comes.
func (h *StandInHub) Resume() {
	h.mu.Lock()
	queued := h.queued
	h.queued, h.paused = nil, false
	h.mu.Unlock()
	type kiosk struct{ site, name string }
	var acks []kiosk
	for _, b := range queued {
		h.store(b)
		if k := (kiosk{b.Site, b.Kiosk}); !slices.Contains(acks, k) {
			acks = append(acks, k)
		}
	}
	for _, k := range acks {
		h.PublishAck(k.site, k.name)
	}
}

// PublishAck publishes (retained) the hub's position for kiosk of site,
// as the hub does after each batch; it does not wait for the broker.
func (h *StandInHub) PublishAck(site, kiosk string) paho.Token {
	h.mu.Lock()
	var contiguous, highest uint64
	for h.held[contiguous+1] != "" {
		contiguous++
	}
	for seq := range h.held {
		highest = max(highest, seq)
	}
	a := protocol.Ack{Kiosk: kiosk, Contiguous: contiguous, Time: time.Now()}
	if !h.opts.Unnamed {
		a.Journal, a.Highest = h.journal, highest
	}
	h.mu.Unlock()
	p, err := protocol.EncodeAck(a)
	if err != nil {
		panic(fmt.Sprintf("stand-in hub: encode ack %+v: %v", a, err))
	}
	return h.client.Publish(protocol.AckTopic(site, kiosk), 1, true, p)
}

// Held returns the id of the entry held at seq ("old" for one the hub
// held from the start), or "".
func (h *StandInHub) Held(seq uint64) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.held[seq]
}

// Hold stores an entry at seq as an import does: no ack is published.
func (h *StandInHub) Hold(seq uint64, id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.held[seq] = id
}

// Times is how many times a batch holding seq was received.
func (h *StandInHub) Times(seq uint64) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.times[seq]
}

// Batches is how many batches arrived, dropped and refused ones included.
func (h *StandInHub) Batches() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.batches
}

// Refused is how many batches named another journal than the hub's.
func (h *StandInHub) Refused() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.refused
}

// Journals counts the batches by the journal they named.
func (h *StandInHub) Journals() map[string]int {
	h.mu.Lock()
	defer h.mu.Unlock()
	m := make(map[string]int, len(h.journals))
	for k, v := range h.journals {
		m[k] = v
	}
	return m
}

// Forget drops the entries held above seq, as a hub restored from an
// older backup does: its next acks say it holds less than it had
// acknowledged. No ack is published.
func (h *StandInHub) Forget(above uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for seq := range h.held {
		if seq > above {
			delete(h.held, seq)
		}
	}
}
