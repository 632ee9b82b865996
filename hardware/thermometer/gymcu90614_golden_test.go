package thermometer

import (
	"slices"
	"testing"
)

// The golden streams, fed to the gy-mcu90614 profile's decoder read by
// read: the frames they hold and the counters after.
func TestGYDecoderGolden(t *testing.T) {
	t.Parallel()
	for _, g := range loadStreams(t, "gymcu90614") {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			d, err := NewFrameDecoder(gyProfile())
			if err != nil {
				t.Fatal(err)
			}
			var readings []Reading
			for _, r := range g.reads {
				readings = d.FeedAll(readings, r)
			}
			// Each want line is object and ambient only: a reading that
			// also has a body or distance, or lacks the ambient, differs.
			if !slices.Equal(readings, g.wants) {
				t.Errorf("frames = %+v, want %+v", readings, g.wants)
			}
			if s := d.Stats(); s != g.stats {
				t.Errorf("Stats() = %+v, want %+v", s, g.stats)
			}
		})
	}
}

func TestGYFrameValues(t *testing.T) {
	t.Parallel()
	p := gyProfile()
	tests := []struct {
		frame            []byte
		object, ambient  float64
		wantChecksumGood bool
	}{
		{[]byte{0x5A, 0x5A, 0x45, 0x04, 0x0E, 0x42, 0x09, 0xC4, 0x1A}, 36.50, 25.00, true},
		{[]byte{0x5A, 0x5A, 0x45, 0x04, 0x0E, 0x42, 0x09, 0xC4, 0x1B}, 36.50, 25.00, false},
		{[]byte{0x5A, 0x5A, 0x45, 0x04, 0x80, 0x00, 0x7F, 0xFF, 0xFB}, -327.68, 327.67, true},
	}
	for _, tt := range tests {
		r := p.reading(tt.frame)
		if r.Object != tt.object || r.Ambient != tt.ambient || !r.HasAmbient {
			t.Errorf("reading(% X) = %+v, want object %v, ambient %v", tt.frame, r, tt.object, tt.ambient)
		}
		if got := p.checksumOK(tt.frame); got != tt.wantChecksumGood {
			t.Errorf("checksumOK(% X) = %v, want %v", tt.frame, got, tt.wantChecksumGood)
		}
	}
}

func TestGYDecoderReset(t *testing.T) {
	t.Parallel()
	d, err := NewFrameDecoder(gyProfile())
	if err != nil {
		t.Fatal(err)
	}
	readings := d.FeedAll(nil, []byte{0x5A, 0x5A, 0x45, 0x04, 0x0E})
	d.Reset()
	readings = d.FeedAll(readings, []byte{0x5A, 0x5A, 0x45, 0x04, 0x0E, 0x42, 0x09, 0xC4, 0x1A})
	if len(readings) != 1 || readings[0].Object != 36.5 {
		t.Errorf("after Reset, FeedAll(vector) = %+v, want one 36.50 reading", readings)
	}
}
