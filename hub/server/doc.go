// Package server only wires the hub together; it holds no capability of
// its own. Open opens the stores of the data folder (hub/datadir), starts
// the embedded MQTT broker (hub/broker) unless an external one is
// configured, the hub's MQTT link (hub/link) feeding the ingest pipeline
// (hub/ingest), the pass feed (hub/passes), and the operators' console
// (hub/console) with /metrics over HTTP. Run tells systemd when the hub
// is ready and feeds its watchdog while ingest and storage answer
// (ready.go, Config.Notify), waits for ctx and closes;
// Close stops everything in order and waits. Config holds the settings,
// from `hub serve`'s flags or its config file (File, LoadFile), including
// the hub's login and TLS to an external broker.
//
// It is a library so that the hub program, the demo, the benchmarks and
// end-to-end tests all run the same Server in process. server may import
// any hub package and protocol; only programs and tests import server.
package server
