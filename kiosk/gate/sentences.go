package gate

import (
	"strings"

	"github.com/gatepost/gatepost/kiosk/screen"
)

// Keys of the guard's sentences about the gate itself in the screen's
// catalogues (kiosk/screen/assets/i18n): plain words, never a Go error.
const (
	KeyJournalFailed   = "gate_journal_failed"   // an entry is NOT recorded
	KeyScannerGone     = "gate_scanner_gone"     // the scanner is not connected
	KeyThermometerGone = "gate_thermometer_gone" // the thermometer does not answer
	KeyDiskLow         = "gate_disk_low"         // the daemon's warning: disk nearly full
)

// Sentence is the catalogues' sentence for key as the guard reads it on
// the screen: in each of the screen's languages (Chinese first), in one
// line.
func Sentence(key string) string {
	words := make([]string, len(screen.Languages))
	for i, lang := range screen.Languages {
		words[i] = screen.MessageIn(lang, key)
	}
	return strings.Join(words, " ")
}
