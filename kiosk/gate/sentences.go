package gate

import "github.com/gatepost/gatepost/kiosk/words"

// Keys of the guard's sentences about the gate itself in the screen's
// catalogues (kiosk/words): plain words, never a Go error.
const (
	KeyJournalFailed   = "gate_journal_failed"   // an entry is NOT recorded
	KeyScannerGone     = "gate_scanner_gone"     // the scanner is not connected
	KeyThermometerGone = "gate_thermometer_gone" // the thermometer does not answer
	KeyDiskLow         = "gate_disk_low"         // the daemon's warning: disk nearly full
)

// Sentence is the catalogues' sentence for key as the guard reads it on
// the screen: in each of the screen's languages (Chinese first), in one
// line.
func Sentence(key string) string { return words.Both(key, nil) }
