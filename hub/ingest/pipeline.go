package ingest

import "context"

// Source is where Run reads messages from: the hub's MQTT link
// (hub/link.Link). Next blocks until a message arrives or ctx ends (ok
// false then); it hands out alerts ahead of batches waiting.
type Source interface {
	Next(ctx context.Context) (topic string, payload []byte, ok bool)
}

// Gated is a Source that asks a gate about each message before queueing
// it (hub/link.Link): Run hands it Allow, so a flood is dropped before it
// can fill the queue that other kiosks' messages wait in.
type Gated interface {
	Gate(allow func(topic string) bool)
}

// decodeAhead is how many decoded messages wait for the store: an alert
// decoded now waits behind at most this many batches.
const decodeAhead = 2

// Run handles every message of src until ctx ends, in two stages: one
// goroutine decodes (JSON, gzip, checks), the other (the caller's) stores
// and acks, so a batch is parsed while the previous one is being written.
// Both are single, so a kiosk's acks go out in the order its batches
// arrived; alerts are taken first at the decode stage and wait behind at
// most decodeAhead batches at the store. Run returns once both stages
// have stopped. Each message passes the rate limit (Allow) once: at a
// Gated source's gate, or else here before it is decoded.
func (in *Ingest) Run(ctx context.Context, src Source) {
	gated := false
	if g, ok := src.(Gated); ok {
		g.Gate(in.Allow)
		gated = true
	}
	decoded := make(chan Decoded, decodeAhead)
	go func() {
		defer close(decoded)
		for {
			topic, payload, ok := src.Next(ctx)
			if !ok {
				return
			}
			if !gated && !in.Allow(topic) {
				continue
			}
			select {
			case decoded <- in.Decode(ctx, topic, payload):
			case <-ctx.Done():
				return
			}
		}
	}()
	for d := range decoded {
		// Save logs what it refuses or fails to do; a kiosk re-sends
		// whatever is not acknowledged.
		_ = in.Save(ctx, d)
	}
}
