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

// LinePattern is the pattern the line goldens and simulator use.
const testLinePattern = `T=(?P<object>-?[0-9.]+) A=(?P<ambient>-?[0-9.]+)(?: B=(?P<body>[0-9.]+))?(?: D=(?P<distance>[0-9.]+))?`

// stream is one golden byte stream from testdata/<protocol>/*.txt, for
// every protocol (the drivers' goldens and the GY-MCU90614 decoder's):
//
//	request HEX        what the driver must send (Modbus)
//	read HEX           one read from the port, in order
//	readtext "QUOTED"  one read, as a Go string
//	want OBJ [AMB [BODY [DIST]]]  one expected reading, in order
//	error TEXT         the read fails with an error containing TEXT
//	stats frames=N bad=N garbage=N  the frame decoder's counters after
//
// and # comments.
type stream struct {
	name    string
	request []byte
	reads   [][]byte
	wants   []Reading
	err     string
	stats   Stats
}

func loadStreams(tb testing.TB, protocol string) []stream {
	tb.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", protocol, "*.txt"))
	if err != nil || len(paths) == 0 {
		tb.Fatalf("no golden streams for %s: %v", protocol, err)
	}
	var out []stream
	for _, p := range paths {
		s, err := parseStream(p)
		if err != nil {
			tb.Fatalf("%s: %v", p, err)
		}
		out = append(out, s)
	}
	return out
}

func parseStream(path string) (stream, error) {
	f, err := os.Open(path)
	if err != nil {
		return stream{}, err
	}
	defer f.Close()
	s := stream{name: strings.TrimSuffix(filepath.Base(path), ".txt")}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		word, rest, _ := strings.Cut(strings.TrimSpace(sc.Text()), " ")
		switch word {
		case "", "#":
		case "request", "read":
			b, err := hex.DecodeString(strings.ReplaceAll(rest, " ", ""))
			if err != nil {
				return s, fmt.Errorf("line %d: %v", n, err)
			}
			if word == "request" {
				s.request = b
			} else {
				s.reads = append(s.reads, b)
			}
		case "readtext":
			t, err := strconv.Unquote(rest)
			if err != nil {
				return s, fmt.Errorf("line %d: %v", n, err)
			}
			s.reads = append(s.reads, []byte(t))
		case "want":
			var v []float64
			for _, w := range strings.Fields(rest) {
				x, err := strconv.ParseFloat(w, 64)
				if err != nil {
					return s, fmt.Errorf("line %d: %v", n, err)
				}
				v = append(v, x)
			}
			r := &Reading{}
			if len(v) > 0 {
				r.Object = v[0]
			}
			if len(v) > 1 {
				r.Ambient, r.HasAmbient = v[1], true
			}
			if len(v) > 2 {
				r.Body, r.HasBody = v[2], true
			}
			if len(v) > 3 {
				r.Distance, r.HasDistance = v[3], true
			}
			s.wants = append(s.wants, *r)
		case "error":
			s.err = rest
		case "stats":
			if _, err := fmt.Sscanf(rest, "frames=%d bad=%d garbage=%d", &s.stats.Frames, &s.stats.BadChecksum, &s.stats.Garbage); err != nil {
				return s, fmt.Errorf("line %d: %v", n, err)
			}
		default:
			return s, fmt.Errorf("line %d: unknown directive %q", n, word)
		}
	}
	return s, sc.Err()
}
