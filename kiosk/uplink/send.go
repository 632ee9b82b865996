package uplink

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/gatepost/gatepost/protocol"
)

// cursor is the send loop's position.
type cursor struct {
	acked     uint64    // the hub holds 1..acked (recorded in the journal)
	blocked   bool      // the hub holds another journal and ours cannot be renumbered (Problem)
	probed    time.Time // while blocked: the last batch sent to learn whether that changed
	seenNamed protocol.Ack
	missing   uint64    // the hub lost entries up to this one, and the journal no longer holds them (Problem)
	sent      uint64    // highest sequence published since the last rewind
	alertSent uint64    // highest alert published since the last rewind
	progress  time.Time // last ack progress or rewind
	wait      *AckWait  // how long to wait for ack progress before sending again
	waiting   time.Time // since when a partial batch has been held back
}

// send is the single loop that reads the journal and publishes batches.
func (u *Uplink) send(ctx context.Context, c mqtt.Client) error {
	acked, err := u.journal.Acked(ctx)
	if err != nil {
		return fmt.Errorf("uplink: %w", err)
	}
	cur := cursor{acked: acked, sent: acked, alertSent: acked, progress: u.clock.Now(), wait: NewAckWait(u.cfg.AckTimeout)}
	u.notePublished(acked)
	u.mark.Store(acked)
	u.checkMissing(ctx, &cur)
	var epoch uint64
	var lastStatus time.Time
	tick := u.clock.NewTicker(u.cfg.AckTimeout / 4)
	defer tick.Stop()
	// batchDue fires when a held-back partial batch has waited BatchWait.
	batchDue := u.clock.NewTimer(time.Hour)
	defer batchDue.Stop()
	for {
		u.rounds.Add(1)
		u.applyDownlinks(ctx)
		u.applyAck(ctx, &cur)
		u.mark.Store(cur.acked)
		u.mu.Lock()
		curEpoch := u.epoch
		u.mu.Unlock()
		if curEpoch != epoch { // a new connection: replay from the ack
			epoch = curEpoch
			u.rewind(&cur)
		}
		if wait := cur.wait.Wait(); cur.sent > cur.acked && u.clock.Since(cur.progress) > wait {
			u.log.Warn("no ack from the hub in time; resending", "from", cur.acked+1, "sent", cur.sent, "waited", wait)
			u.rewind(&cur)
			cur.wait.TimedOut()
		}
		if u.online.Load() {
			if u.statusDue.Swap(false) || u.clock.Since(lastStatus) > statusEvery {
				u.publishStatus(c)
				lastStatus = u.clock.Now()
			}
			if cur.sent == cur.acked {
				cur.progress = u.clock.Now() // nothing outstanding: time the next window from now
			}
			var err error
			if cur.blocked {
				err = u.probe(ctx, c, &cur)
			} else {
				err = u.publishAlerts(ctx, c, &cur)
				if err == nil {
					err = u.publishAhead(ctx, c, &cur)
				}
			}
			if err != nil && ctx.Err() == nil {
				u.stats.publishFailures.Add(1)
				u.log.Warn("publish failed; will retry", "err", err)
			}
			if !cur.waiting.IsZero() {
				batchDue.Reset(max(u.cfg.BatchWait-u.clock.Since(cur.waiting), time.Millisecond))
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-u.wake:
		case <-tick.C():
		case <-batchDue.C():
		}
	}
}

func (u *Uplink) rewind(cur *cursor) {
	if cur.sent > cur.acked || cur.alertSent > cur.acked {
		u.stats.resends.Add(1)
	}
	cur.wait.Resend(max(cur.sent, cur.alertSent))
	cur.sent, cur.alertSent, cur.progress, cur.waiting = cur.acked, cur.acked, u.clock.Now(), time.Time{}
}

func (u *Uplink) applyDownlinks(ctx context.Context) {
	for {
		select {
		case d := <-u.downlinks:
			newer, err := u.journal.SaveDownlink(ctx, d)
			if err != nil {
				u.log.Error("cannot store a downlink; it comes again on the next connect", "kind", d.Kind, "err", err)
				continue
			}
			if !newer {
				continue
			}
			u.stats.downlinks.Add(1)
			u.log.Info("downlink stored", "kind", d.Kind, "version", d.Version)
			if u.cfg.OnDownlink != nil {
				u.cfg.OnDownlink(d)
			}
			u.statusDue.Store(true)
		default:
			return
		}
	}
}

// alertsPerRound bounds the alerts sent before the next look at the
// backlog: a storm of alerts (a fever line set too low, a long outage)
// still jumps the queue, but cannot stall acks and batches behind it.
const alertsPerRound = 32

// publishAlerts sends each unacknowledged alert not yet sent, alone, on
// the alerts topic, before any backlog; at most alertsPerRound per call,
// waking the loop again when more remain.
func (u *Uplink) publishAlerts(ctx context.Context, c mqtt.Client, cur *cursor) error {
	alerts, err := u.journal.UnsentAlerts(ctx, max(cur.alertSent, cur.sent), alertsPerRound)
	if err != nil || len(alerts) == 0 {
		return err
	}
	toks := make([]mqtt.Token, 0, len(alerts))
	for _, e := range alerts {
		tok, err := u.publishAsync(c, protocol.AlertsTopic(u.cfg.Site, u.cfg.Kiosk), []protocol.Entry{e})
		if err != nil {
			return err
		}
		toks = append(toks, tok)
	}
	for i, tok := range toks {
		if err := waitToken(tok); err != nil {
			return err
		}
		u.stats.alerts.Add(1)
		cur.alertSent = alerts[i].Seq
		u.notePublished(cur.alertSent)
	}
	if len(alerts) == alertsPerRound {
		u.poke()
	}
	return nil
}

// publishAhead publishes batches after cur.sent while fewer than
// MaxInFlight batches' worth of entries are unacknowledged. A batch that
// is not full waits up to BatchWait for more entries.
func (u *Uplink) publishAhead(ctx context.Context, c mqtt.Client, cur *cursor) error {
	window := uint64(u.cfg.BatchSize * u.cfg.MaxInFlight)
	var toks []mqtt.Token
	for cur.sent-cur.acked < window {
		limit := min(u.cfg.BatchSize, int(window-(cur.sent-cur.acked)))
		entries, err := u.journal.UnsentEncoded(ctx, cur.sent, limit)
		if err != nil || len(entries) == 0 {
			cur.waiting = time.Time{}
			if err != nil {
				return err
			}
			break
		}
		if len(entries) < u.cfg.BatchSize && u.cfg.BatchWait > 0 && limit == u.cfg.BatchSize {
			if cur.waiting.IsZero() {
				cur.waiting = u.clock.Now()
			}
			if u.clock.Since(cur.waiting) < u.cfg.BatchWait {
				break // the ticker comes back for it
			}
		}
		cur.waiting = time.Time{}
		payload, err := u.encodeStored(entries, u.cfg.GzipAbove)
		if err != nil {
			return err
		}
		cur.wait.Sent(entries[len(entries)-1].Seq, u.clock.Now()) // before it can be acked
		toks = append(toks, u.publishPayload(c, protocol.EntriesTopic(u.cfg.Site, u.cfg.Kiosk), payload, len(entries)))
		u.stats.batches.Add(1)
		cur.sent = entries[len(entries)-1].Seq
		u.notePublished(cur.sent)
	}
	// Wait for the PUBACKs of the window together, not one by one. A
	// PUBACK only bounds what is in flight; the hub's ack is what counts.
	for _, tok := range toks {
		if err := waitToken(tok); err != nil {
			return err
		}
	}
	return nil
}

func (u *Uplink) publishAsync(c mqtt.Client, topic string, entries []protocol.Entry) (mqtt.Token, error) {
	b := protocol.Batch{Kiosk: u.cfg.Kiosk, Site: u.cfg.Site, Journal: u.journal.ID(), Sent: u.clock.Now(), Entries: entries}
	if u.cfg.Key != nil {
		if err := protocol.SignBatch(u.cfg.Key, &b); err != nil {
			return nil, fmt.Errorf("sign batch: %w", err)
		}
	}
	payload, err := protocol.EncodeBatchPayload(b, u.cfg.GzipAbove)
	if err != nil {
		return nil, fmt.Errorf("encode batch: %w", err)
	}
	return u.publishPayload(c, topic, payload, len(entries)), nil
}

func (u *Uplink) publishPayload(c mqtt.Client, topic string, payload []byte, entries int) mqtt.Token {
	if bytes.HasPrefix(payload, []byte(`{"v":1,"encoding":"gzip"`)) {
		u.stats.compressed.Add(1)
	}
	u.stats.entries.Add(uint64(entries))
	u.publishes.Add(1)
	return c.Publish(topic, 1, false, payload)
}

func waitToken(tok mqtt.Token) error {
	if !tok.WaitTimeout(10 * time.Second) {
		return errors.New("publish timed out")
	}
	return tok.Error()
}

// notePublished raises the highest sequence published to seq.
func (u *Uplink) notePublished(seq uint64) {
	for {
		old := u.published.Load()
		if seq <= old || u.published.CompareAndSwap(old, seq) {
			return
		}
	}
}
