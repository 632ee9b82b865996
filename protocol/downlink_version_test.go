package protocol

import "testing"

func TestPayloadVersion(t *testing.T) {
	for raw, want := range map[string]uint64{
		`{"v":1,"version":7,"issued":"2026-02-01T08:30:00Z"}`: 7,
		`{"v":1}`:        0,
		`not json`:       0,
		`{"version":-1}`: 0,
	} {
		if got := PayloadVersion([]byte(raw)); got != want {
			t.Errorf("PayloadVersion(%q) = %d, want %d", raw, got, want)
		}
	}
}
