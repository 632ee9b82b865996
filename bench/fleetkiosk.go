package main

import (
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/gatepost/gatepost/kiosk/uplink"
	"github.com/gatepost/gatepost/protocol"
)

// The kiosk's uplink defaults (kiosk/config): the generator sends as a
// kiosk does.
const (
	fleetBatchSize   = 100
	fleetMaxInFlight = 4
	fleetAckTimeout  = 10 * time.Second
	fleetGzipAbove   = 4096
	// fleetAlertOneIn: one entry in this many is an alert, as in the
	// demo's traffic (kiosk/gate.Traffic: a fever one person in 15).
	fleetAlertOneIn = 15
)

// fleetKiosk is one simulated kiosk: its journal (entries made from
// their sequence number, chained as a kiosk's journal chains them), an
// MQTT connection under its own login, and the uplink's rules: batches of
// up to 100 entries in order, at most four ahead of the last ack, an alert
// at once and alone on the alerts topic, and everything from the last ack
// again after 10 s without progress, or longer while acks come late
// (uplink.AckWait).
type fleetKiosk struct {
	site, name, journal string
	user, secret        string
	fixedAckWait        bool // resend after 10 s without progress, however late the acks have come
	// batchWait: a partial batch waits until its first entry is this old
	// (the kiosk's mqtt.batch_wait; 0: sent at once). Alerts still go at
	// once, alone, on the alerts topic.
	batchWait time.Duration
	key       ed25519.PrivateKey // signs every batch, as the enrolled kiosk's identity key does
	client    mqtt.Client

	hashes   [][32]byte // hashes[seq]: chain hash of entry seq; [0] is Genesis
	alerts   map[uint64]bool
	appended map[uint64]time.Time // live entries: when the kiosk committed them
	sentAt   map[uint64]time.Time // live alerts: when they were published
	encoded  map[[2]uint64][]byte // batches sent and not yet acked, kept for resending
	acks     chan protocol.Ack

	// Written by the kiosk's goroutine, read by the scene's sampler.
	mu       sync.Mutex
	acked    uint64 // the hub's contiguous sequence for this kiosk
	resends  int    // ack timeouts: sending started again from the last ack
	latency  []time.Duration
	alertLag []time.Duration
}

func newFleetKiosk(site, name, user, secret string, key ed25519.PrivateKey) *fleetKiosk {
	return &fleetKiosk{site: site, name: name, journal: "journal-" + name, user: user, secret: secret, key: key,
		hashes: [][32]byte{protocol.Genesis}, alerts: map[uint64]bool{}, appended: map[uint64]time.Time{},
		sentAt: map[uint64]time.Time{}, encoded: map[[2]uint64][]byte{}, acks: make(chan protocol.Ack, 64)}
}

// head is the journal's last sequence.
func (k *fleetKiosk) head() uint64 { return uint64(len(k.hashes) - 1) }

// makeEntry is entry seq as the journal holds it.
func (k *fleetKiosk) makeEntry(seq uint64) protocol.Entry {
	e := entry(k.name, seq)
	e.ID = fmt.Sprintf("0190d6e4-7a4b-7cc0-8b8e-%012x", seq)
	if k.alerts[seq] {
		amb := 22.5
		e.Kind, e.Pass, e.Visitor, e.Count = protocol.KindCheck, fmt.Sprintf("R%07d", seq%5000), nil, 0
		e.Temperature = &protocol.Reading{ObjectC: 38.4, AmbientC: &amb, ScreenedC: 38.4}
		e.Decision, e.Reasons = protocol.DecisionAlert, []string{"pass_valid", "fever_confirmed"}
	}
	e.Prev = protocol.HashText(k.hashes[seq-1])
	return e
}

// appendEntry commits the next entry to the journal; alert makes it one.
func (k *fleetKiosk) appendEntry(alert bool) uint64 {
	seq := k.head() + 1
	if alert {
		k.alerts[seq] = true
	}
	e := k.makeEntry(seq)
	k.hashes = append(k.hashes, protocol.EntryHash(k.hashes[seq-1], e))
	return seq
}

// seal signs b, entries from..to, with the kiosk's key over their links,
// taken from the hashes the kiosk keeps as a journal keeps them (the real
// uplink signs the same way and never hashes an entry again to send it).
func (k *fleetKiosk) seal(b *protocol.Batch, from, to uint64) {
	links := make([]protocol.ChainLink, 0, to-from+1)
	for seq := from; seq <= to; seq++ {
		links = append(links, protocol.ChainLink{Seq: seq, Prev: k.hashes[seq-1], Hash: k.hashes[seq]})
	}
	b.Sig = protocol.SignChain(k.key, b.Kiosk, b.Site, b.Journal, links)
}

// payload encodes entries from..to as the uplink does (gzip above 4 KiB).
func (k *fleetKiosk) payload(from, to uint64) ([]byte, error) {
	b := protocol.Batch{Kiosk: k.name, Site: k.site, Journal: k.journal, Sent: time.Now()}
	for seq := from; seq <= to; seq++ {
		b.Entries = append(b.Entries, k.makeEntry(seq))
	}
	k.seal(&b, from, to)
	return protocol.EncodeBatchPayload(b, fleetGzipAbove)
}

// connect opens the kiosk's MQTT session and subscribes to its ack.
func (k *fleetKiosk) connect(url string, tlsConfig *tls.Config) error {
	opts := mqtt.NewClientOptions().AddBroker(url).SetClientID(k.user).SetUsername(k.user).SetPassword(k.secret).
		SetTLSConfig(tlsConfig).SetCleanSession(true).SetAutoReconnect(true).SetConnectTimeout(30 * time.Second).
		SetOrderMatters(false)
	k.client = mqtt.NewClient(opts)
	if tok := k.client.Connect(); !tok.WaitTimeout(60*time.Second) || tok.Error() != nil {
		return fmt.Errorf("kiosk %s: connect: %v", k.name, tok.Error())
	}
	tok := k.client.Subscribe(protocol.AckTopic(k.site, k.name), 1, func(_ mqtt.Client, m mqtt.Message) {
		a, err := protocol.DecodeAck(m.Payload())
		if err != nil {
			return
		}
		select {
		case k.acks <- a:
		default: // a later ack says at least as much
		}
	})
	if !tok.WaitTimeout(30*time.Second) || tok.Error() != nil {
		return fmt.Errorf("kiosk %s: subscribe: %v", k.name, tok.Error())
	}
	return nil
}

// run sends until ctx ends. every > 0 appends live entries at random gaps
// around every (one in fleetAlertOneIn an alert).
func (k *fleetKiosk) run(ctx context.Context, every time.Duration) {
	sent, acked := uint64(0), uint64(0)
	progress := time.Now()
	wait := uplink.NewAckWait(fleetAckTimeout) // as the uplink times its acks
	tick := time.NewTicker(fleetAckTimeout / 4)
	defer tick.Stop()
	next := time.NewTimer(gap(every))
	if every <= 0 {
		next.Stop()
	}
	defer next.Stop()
	held := time.NewTimer(time.Hour) // a partial batch's wait (batchWait)
	held.Stop()
	defer held.Stop()
	for {
		if sent == acked {
			progress = time.Now() // nothing outstanding: time the next window from now, as the uplink does
		}
		for sent < k.head() && sent-acked < fleetBatchSize*fleetMaxInFlight {
			to := min(k.head(), sent+fleetBatchSize, acked+fleetBatchSize*fleetMaxInFlight)
			if wait := k.partialWait(sent, to); wait > 0 {
				held.Reset(wait)
				break
			}
			key := [2]uint64{sent + 1, to}
			data, ok := k.encoded[key]
			if !ok {
				data, _ = k.payload(sent+1, to)
				k.encoded[key] = data
			}
			wait.Sent(to, time.Now())
			k.client.Publish(protocol.EntriesTopic(k.site, k.name), 1, false, data)
			sent = to
		}
		select {
		case <-ctx.Done():
			return
		case a := <-k.acks:
			if a.Contiguous > acked {
				k.settle(acked, a)
				acked, progress = a.Contiguous, time.Now()
				// An alert sent alone can be acked before the batch that
				// holds it is sent (while it waits, batchWait): what the
				// hub holds is not sent again.
				sent = max(sent, acked)
				wait.Acked(acked, progress)
				for key := range k.encoded {
					if key[1] <= acked {
						delete(k.encoded, key)
					}
				}
			}
			k.settleAlerts(a)
		case <-next.C:
			k.live()
			next.Reset(gap(every))
		case <-held.C:
		case <-tick.C:
			limit := wait.Wait()
			if k.fixedAckWait {
				limit = fleetAckTimeout
			}
			if sent > acked && time.Since(progress) > limit {
				wait.Resend(sent)
				wait.TimedOut()
				sent, progress = acked, time.Now()
				k.mu.Lock()
				k.resends++
				k.mu.Unlock()
			}
		}
	}
}

// partialWait is how much longer the batch of entries after sent up to
// to must wait for more (batchWait), as the uplink holds a partial
// batch: 0 to send it now. A full batch, or one of the backlog (entries
// made before the run, with no commit time), goes at once.
func (k *fleetKiosk) partialWait(sent, to uint64) time.Duration {
	if k.batchWait <= 0 || to-sent >= fleetBatchSize {
		return 0
	}
	first, ok := k.appended[sent+1]
	if !ok {
		return 0
	}
	return max(time.Until(first.Add(k.batchWait)), 0)
}

// live commits one live entry; an alert goes out at once, alone.
func (k *fleetKiosk) live() {
	alert := rand.IntN(fleetAlertOneIn) == 0
	seq := k.appendEntry(alert)
	now := time.Now()
	k.appended[seq] = now
	if !alert {
		return
	}
	if data, err := k.payload(seq, seq); err == nil {
		k.sentAt[seq] = now
		k.client.Publish(protocol.AlertsTopic(k.site, k.name), 1, false, data)
	}
}

// settle records a new ack: the commit-to-ack time of each live entry it
// covers.
func (k *fleetKiosk) settle(was uint64, a protocol.Ack) {
	now := time.Now()
	k.mu.Lock()
	defer k.mu.Unlock()
	k.acked = a.Contiguous
	for seq := was + 1; seq <= a.Contiguous; seq++ {
		if t, ok := k.appended[seq]; ok {
			k.latency = append(k.latency, now.Sub(t))
			delete(k.appended, seq)
		}
	}
}

// settleAlerts records how long each alert waited for the hub: until an
// ack shows it held (highest or contiguous at least its sequence).
func (k *fleetKiosk) settleAlerts(a protocol.Ack) {
	now := time.Now()
	k.mu.Lock()
	defer k.mu.Unlock()
	for seq, t := range k.sentAt {
		if a.Highest >= seq || a.Contiguous >= seq {
			k.alertLag = append(k.alertLag, now.Sub(t))
			delete(k.sentAt, seq)
		}
	}
}

// gap is a random wait around every (exponential: arrivals at a gate are
// a Poisson process).
func gap(every time.Duration) time.Duration {
	if every <= 0 {
		return time.Hour
	}
	return time.Duration(rand.ExpFloat64() * float64(every))
}
