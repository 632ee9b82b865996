// Package link is the hub's MQTT client: it keeps a session to the broker
// (embedded or external), subscribes to every kiosk's batches, alerts and
// presence, asks a gate (ingest's rate limit) about each message before
// queueing it, keeps alerts in a queue of their own that a flood of
// batches cannot fill, hands each message on in arrival order with alerts
// first, and publishes retained messages (acks, downlinks) with a bounded
// wait for the PUBACK. It logs in with the hub's own account and speaks
// TLS to tls://, mqtts:// and ssl:// brokers. Reconnecting waits with
// internal/backoff on an injected clock.
//
// link imports protocol and internal packages only; it knows nothing of
// storage. hub/server wires it to hub/ingest (which reads Next) and to the
// downlinks (which Publish); nothing else imports it.
package link
