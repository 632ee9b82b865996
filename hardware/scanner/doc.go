// Package scanner reads codes (QR, Data Matrix, barcodes) from code
// scanners. Scanner is what a kiosk needs from one:
//
//   - Serial drives a scanner in serial (RS-232 / USB CDC) mode, where
//     each code arrives as a line (or ends with an idle gap), with
//     optional AIM prefix stripping, "no read" replies ignored and
//     trigger commands (Triggers); LineSplitter is its pure splitting.
//   - HID reads a scanner in keyboard mode from Linux evdev input events
//     (OpenHID grabs the node); KeyDecoder is its pure decoding.
//   - Reader reads lines from standard input or a pipe.
//   - Dedupe wraps any of them to drop the same code read again within
//     a window.
//
// Open builds one from Settings.
//
// The kiosk imports it (its config and its device wiring); any package
// may. It imports nothing of gatepost outside hardware/.
package scanner
