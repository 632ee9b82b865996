// Package ingest turns kiosk batches arriving over MQTT into stored entries
// and acknowledgements: it checks the topic against the message, stores the
// batch idempotently, and publishes the kiosk's contiguous sequence as a
// retained ack. Run is the hub's pipeline: one goroutine decodes while
// another stores and acks, reading from a Source (the hub's MQTT link,
// hub/link) that ingest knows only as Next; it is given a function to
// publish with.
//
// ingest may import protocol, hub/records and internal; hub/server wires
// it; other packages import it only in tests.
package ingest
