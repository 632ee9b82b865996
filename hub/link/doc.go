// Package link is the hub's MQTT client: it keeps two sessions to the
// broker (embedded or external), one for every kiosk's batches and
// presence and one for their alerts and the hub's own publishes, asks a
// gate (ingest's rate limit) about each message before queueing it, and
// hands each message on in arrival order with alerts first. When ingest
// is behind, the batches' connection stops reading and MQTT flow control
// holds the rest at the broker (back-pressure) instead of dropping them;
// alerts, on the other connection, are still read at once. It publishes
// retained messages (acks, downlinks) with a bounded wait for the PUBACK,
// logs in with the hub's own account (and the same account's "-ingest"
// name for the second connection) and speaks TLS to tls://, mqtts:// and
// ssl:// brokers. Reconnecting waits with internal/backoff on an injected
// clock. Hub replicas give each link a client id of its own and one share
// group: the kiosks' messages then arrive as MQTT shared subscriptions
// ($share/GROUP/…), each at one replica (share.go).
//
// link imports protocol and internal packages only; it knows nothing of
// storage. hub/server wires it to hub/ingest (which reads Next) and to the
// downlinks (which Publish); the hub's broker-config command names its
// second login; nothing else imports it.
package link
