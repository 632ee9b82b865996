// Package scanner reads codes (QR, Data Matrix, barcodes) from code
// scanners. Scanner is what a kiosk needs from one; Serial drives a
// scanner in serial (CDC) mode, where each code arrives as a line.
// LineSplitter is the pure line splitting it uses.
//
// Same-code suppression, AIM symbology identifiers, trigger commands and
// HID keyboard mode are not here yet; each will be a layer or a driver of
// its own beside Serial.
//
// Any package may import scanner; it imports nothing of gatepost outside
// hardware/.
package scanner
