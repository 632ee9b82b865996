package sim

import "testing"

func TestGYFrame(t *testing.T) {
	t.Parallel()
	tests := []struct {
		object, ambient float64
		want            [9]byte
	}{
		{36.5, 25, [9]byte{0x5A, 0x5A, 0x45, 0x04, 0x0E, 0x42, 0x09, 0xC4, 0x1A}}, // the field-notes vector
		{1.23, -12.34, [9]byte{0x5A, 0x5A, 0x45, 0x04, 0x00, 0x7B, 0xFB, 0x2E, 0xA1}},
		{1000, -1000, [9]byte{0x5A, 0x5A, 0x45, 0x04, 0x7F, 0xFF, 0x80, 0x00, 0xFB}}, // clamped to int16
	}
	for _, tt := range tests {
		if got := gyFrame(tt.object, tt.ambient); got != tt.want {
			t.Errorf("gyFrame(%v, %v) = % X, want % X", tt.object, tt.ambient, got[:], tt.want[:])
		}
	}
}
