package testkit

import "testing"

// This package's code has one literal that starts with tcp:// (URL's
// format); the tests' literals are not counted.
func TestStringsInCode(t *testing.T) {
	got := StringsInCode(t, "tcp://")
	if !got["tcp://%s"] || len(got) != 1 {
		t.Errorf(`StringsInCode("tcp://") = %v, want only "tcp://%%s"`, got)
	}
	if got := StringsInCode(t, "a literal only this test names"); len(got) != 0 {
		t.Errorf("StringsInCode found %v in the tests, want only the code's literals", got)
	}
}
