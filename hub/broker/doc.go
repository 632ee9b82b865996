// Package broker runs the hub's embedded MQTT broker (mochi-mqtt) on TCP, so
// that one command is enough: kiosks and the hub's own client connect to it
// as they would to Mosquitto or EMQX. It is off when the hub is configured
// with an external broker.
//
// Who may connect and which topics each client may use is decided by the
// hook in access.go: allow-all for now, per-kiosk credentials and ACLs
// later. broker may import protocol; only the hub's wiring imports broker.
package broker
