package thermometer

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// golden is one captured GY-MCU90614 byte stream from testdata: the reads
// as they arrived, the frames they hold, and the decoder's counters after.
type golden struct {
	name  string
	reads [][]byte
	want  [][2]float64 // object, ambient
	stats Stats
}

// loadGolden reads testdata/gymcu90614/*.txt. Each file has lines
//
//	read HEX BYTES…          one read from the port, in order
//	want OBJECT AMBIENT      one expected frame, in order
//	stats frames=N bad=N garbage=N
//
// and # comments.
func loadGolden(tb testing.TB) []golden {
	tb.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "gymcu90614", "*.txt"))
	if err != nil || len(paths) == 0 {
		tb.Fatalf("no golden streams: %v", err)
	}
	var cases []golden
	for _, p := range paths {
		g, err := parseGolden(p)
		if err != nil {
			tb.Fatalf("%s: %v", p, err)
		}
		cases = append(cases, g)
	}
	return cases
}

func parseGolden(path string) (golden, error) {
	f, err := os.Open(path)
	if err != nil {
		return golden{}, err
	}
	defer f.Close()
	g := golden{name: strings.TrimSuffix(filepath.Base(path), ".txt")}
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		word, rest, _ := strings.Cut(strings.TrimSpace(sc.Text()), " ")
		switch word {
		case "", "#":
		case "read":
			b, err := hex.DecodeString(strings.ReplaceAll(rest, " ", ""))
			if err != nil {
				return g, fmt.Errorf("line %d: %v", line, err)
			}
			g.reads = append(g.reads, b)
		case "want":
			var w [2]float64
			fields := strings.Fields(rest)
			if len(fields) != 2 {
				return g, fmt.Errorf("line %d: want needs object and ambient", line)
			}
			for i, s := range fields {
				if w[i], err = strconv.ParseFloat(s, 64); err != nil {
					return g, fmt.Errorf("line %d: %v", line, err)
				}
			}
			g.want = append(g.want, w)
		case "stats":
			if _, err := fmt.Sscanf(rest, "frames=%d bad=%d garbage=%d", &g.stats.Frames, &g.stats.BadChecksum, &g.stats.Garbage); err != nil {
				return g, fmt.Errorf("line %d: %v", line, err)
			}
		default:
			return g, fmt.Errorf("line %d: unknown keyword %q", line, word)
		}
	}
	return g, sc.Err()
}

// The golden streams, fed to the gy-mcu90614 profile's decoder read by
// read: the frames they hold and the counters after.
func TestGYDecoderGolden(t *testing.T) {
	t.Parallel()
	for _, g := range loadGolden(t) {
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
			var got [][2]float64
			for _, r := range readings {
				if !r.HasAmbient || r.HasBody || r.HasDistance {
					t.Errorf("reading %+v: want object and ambient only", r)
				}
				got = append(got, [2]float64{r.Object, r.Ambient})
			}
			if fmt.Sprint(got) != fmt.Sprint(g.want) {
				t.Errorf("frames (object, ambient) = %v, want %v", got, g.want)
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
