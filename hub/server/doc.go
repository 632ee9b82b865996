// Package server wires the hub together: records (SQLite), the embedded
// MQTT broker unless an external one is configured, the hub's MQTT client
// feeding ingest, and the operators' console over HTTP.
//
// It is a library so that the hub program, the demo and end-to-end tests
// all run the same Server in process: Open starts everything, Close stops
// it and waits. server may import any hub package and protocol; only
// programs and end-to-end tests import server.
package server
