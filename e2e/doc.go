// Package e2e holds the end-to-end tests: the real kiosk and hub programs,
// built from this checkout and run as processes, talk through a real MQTT
// broker (the hub's embedded one, or Mosquitto) while simulators drive the
// real serial drivers on pseudo-terminals. Nothing here is imported.
package e2e
