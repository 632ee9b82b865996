// Package broker runs the hub's embedded MQTT broker (mochi-mqtt) on TCP
// and TLS, so that one command is enough: kiosks and the hub's own client
// connect to it as they would to Mosquitto or EMQX. It is off when the hub
// is configured with an external broker.
//
// It is closed: the Closed hook (closed.go) is its only access rule. It
// admits the hub's own login and enrolled kiosks, each under its own
// client id and topics, and in transition mode a site's kiosks that are
// not enrolled yet; Cut ends a retired kiosk's session at once. broker
// imports protocol and internal/mochi; only the hub's wiring imports it.
package broker
