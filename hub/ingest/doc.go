// Package ingest turns kiosk batches arriving over MQTT into stored entries
// and acknowledgements, and is strict about whom it takes them from: a
// message is taken only from a kiosk the register admits (Admit: enrolled,
// not retired, at its own site), only if it names the site and kiosk of
// its topic (the identity the broker authenticated), only within each
// kiosk's rate limit (Allow, alerts apart) and, for a batch, only if it
// carries a signature by the key the kiosk enrolled with (KioskKey,
// signature.go) and only within the sequence window (hub/records). Every refusal is counted by reason
// (protocol.RefusalReasons, Stats.Refused), logged at most once a minute
// per kiosk and reason, and, when it is a security event, handed to Alarm
// for a console alert. An accepted batch is stored idempotently and the
// kiosk's contiguous sequence published as a retained ack.
//
// Run is the hub's pipeline: goroutines decode (alerts on one of their
// own when the Source is Split) while another stores and acks, reading
// from a Source (the hub's MQTT link, hub/link) that ingest knows only as
// Next (or NextAlert and NextBatch), and gating it with Allow when it is
// Gated; it is given functions to publish with. Batches waiting together
// share one transaction (SaveGroup, group commit through GroupStore), each
// kiosk acked after the commit; when the store is behind, Run stops
// reading and the Source holds the rest (back-pressure).
//
// ingest may import protocol, hub/records and internal; hub/server wires
// it; other packages import it only in tests.
package ingest
