package thermometer

import (
	"bytes"
	"testing"
)

// FuzzGYDecoder feeds arbitrary bytes, whole and in chunks. The decoder
// must not panic, must return only frames with a valid header and
// checksum, must keep its buffer below one frame, and must decode the same
// frames and counts however the stream is split.
func FuzzGYDecoder(f *testing.F) {
	for _, g := range loadGolden(f) {
		f.Add(bytes.Join(g.reads, nil), uint8(1))
		f.Add(bytes.Join(g.reads, nil), uint8(4))
	}
	f.Add([]byte{}, uint8(0))
	f.Add(bytes.Repeat([]byte{0x5A}, 40), uint8(3))
	f.Fuzz(func(t *testing.T, data []byte, chunk uint8) {
		var whole GYDecoder
		want := whole.Feed(nil, data)

		var split GYDecoder
		var got []GYFrame
		size := int(chunk)%16 + 1
		for p := data; len(p) > 0; {
			n := min(size, len(p))
			got = split.Feed(got, p[:n])
			p = p[n:]
			if split.n >= gyFrameLen {
				t.Fatalf("decoder holds %d bytes, want fewer than %d", split.n, gyFrameLen)
			}
		}

		for _, fr := range want {
			if !fr.ChecksumOK() || !bytes.HasPrefix(fr[:], gyHeader[:]) {
				t.Fatalf("Feed returned invalid frame % X", fr[:])
			}
		}
		if len(got) != len(want) {
			t.Fatalf("fed in chunks of %d: %d frames, fed whole: %d", size, len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("frame %d fed in chunks of %d = % X, fed whole = % X", i, size, got[i][:], want[i][:])
			}
		}
		if s, w := split.Stats(), whole.Stats(); s != w {
			t.Fatalf("Stats fed in chunks of %d = %+v, fed whole = %+v", size, s, w)
		}
		if s := whole.Stats(); s.Frames != uint64(len(want)) {
			t.Fatalf("Stats().Frames = %d, but Feed returned %d frames", s.Frames, len(want))
		}
	})
}
