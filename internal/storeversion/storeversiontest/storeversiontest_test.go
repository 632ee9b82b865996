package storeversiontest

import (
	"encoding/json"
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
