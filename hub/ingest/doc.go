// Package ingest turns kiosk batches arriving over MQTT into stored entries
// and acknowledgements: it checks the topic against the message, stores the
// batch idempotently, and publishes the kiosk's contiguous sequence as a
// retained ack. It knows nothing of MQTT clients: the hub's wiring feeds it
// (topic, payload) pairs and gives it a function to publish with.
//
// ingest may import protocol and hub/records; only the hub's wiring and
// tests import ingest.
package ingest
