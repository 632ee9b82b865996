// Package passes is the hub's side of entry passes: the signing keys
// (init, rotate; private keys in files under the hub's data folder), issuing
// passes one at a time or from a CSV of households, revoking them, marking
// home observation, printing them as QR codes, and producing the two
// downlink payloads kiosks verify with: the key set and the status list.
//
// Only the hub program imports it. It keeps its own SQLite file
// (passes.db) beside the hub's records.
package passes
