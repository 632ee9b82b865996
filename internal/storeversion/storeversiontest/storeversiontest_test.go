package storeversiontest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDiff(t *testing.T) {
	want := `{"a": 1, "b": [{"c": "x"}, {"c": "y"}], "d": {"e": true}}`
	for _, tc := range []struct {
		have  string
		diffs int
	}{
		{`{"a": 1, "b": [{"c": "x"}, {"c": "y"}], "d": {"e": true}}`, 0},
		{`{"a": 1, "b": [{"c": "x", "new": 2}, {"c": "y"}], "d": {"e": true}, "f": 3}`, 0}, // fields added later
		{`{"a": 2, "b": [{"c": "x"}, {"c": "y"}], "d": {"e": true}}`, 1},
		{`{"a": 1, "b": [{"c": "x"}], "d": {"e": true}}`, 1},
		{`{"a": 1, "b": [{"c": "x"}, {"c": "z"}], "d": {}}`, 2},
		{`{"b": [{"c": "x"}, {"c": "y"}], "d": {"e": "true"}}`, 2},
	} {
		var w, h any
		if err := json.Unmarshal([]byte(want), &w); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(tc.have), &h); err != nil {
			t.Fatal(err)
		}
		if got := Diff("", w, h); len(got) != tc.diffs {
			t.Errorf("Diff(%s, %s) = %q, want %d differences", want, tc.have, got, tc.diffs)
		}
	}
}

// Fixtures lists a package's fixtures oldest first by their version
// number, not as the names sort.
func TestFixturesOldestFirst(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "testdata"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"hub-v10.db", "hub-v9.db", "hub-v2.db", "hub-v2-rebased.db", "other-v1.db"} {
		if err := os.WriteFile(filepath.Join(dir, "testdata", n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(dir)
	got := strings.Join(Fixtures(t, "hub-v*.db"), " ")
	if want := "hub-v2-rebased hub-v2 hub-v9 hub-v10"; got != want {
		t.Errorf("Fixtures = %q, want %q", got, want)
	}
}
