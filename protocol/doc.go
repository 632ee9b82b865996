// Package protocol defines what crosses a wire between a kiosk and the hub:
// entries, batches of entries, the hub's acknowledgement and the MQTT topic
// layout. It is a pure codec: no I/O, no MQTT client, no SQL.
//
// Every package of gatepost may import protocol; protocol imports nothing of
// ours. Messages are JSON objects with a "v" version field; decoding rejects
// unknown versions, missing fields and out-of-range values with a
// *FieldError naming the field, so a log line says exactly what was wrong.
package protocol
