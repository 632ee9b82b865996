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

// The published Modbus vector: the simulator answers a request whose CRC
// is right, and ignores one whose CRC is off; its answer carries the CRC
// the driver expects.
func TestModbusCRCVector(t *testing.T) {
	t.Parallel()
	m := modbusProtocol{address: 0x40, object: 0x1006, ambient: 0x1007}
	req := []byte{0x40, 0x03, 0x10, 0x06, 0x00, 0x01, 0x6F, 0xDA}
	cmd, ok := m.match(req)
	if !ok {
		t.Fatalf("match(% X) = false, want the published request accepted", req)
	}
	bad := append([]byte(nil), req...)
	bad[7]++
	if _, ok := m.match(bad); ok {
		t.Errorf("match(% X) = true, want a wrong CRC ignored", bad)
	}
	got := m.frame(values{object: 22.25}, cmd, 0)
	want := []byte{0x40, 0x03, 0x02, 0x08, 0xB1, 0x43, 0xFF}
	if string(got) != string(want) {
		t.Errorf("frame(22.25) = % X, want % X", got, want)
	}
}
