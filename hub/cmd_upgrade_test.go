package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatepost/gatepost/hub/operators"
	"github.com/gatepost/gatepost/hub/passes"
	"github.com/gatepost/gatepost/hub/records"
	"github.com/gatepost/gatepost/internal/storeversion"
	"github.com/gatepost/gatepost/internal/storeversion/storeversiontest"
	"github.com/gatepost/gatepost/internal/testkit"
)

// TestServeRefusesNewerStores starts `hub serve` on a data folder one of
// whose stores a newer hub wrote: serve exits with the sentence naming the
// file, both versions and what to do, and leaves that file unchanged.
func TestServeRefusesNewerStores(t *testing.T) {
	for _, st := range []struct {
		file  string
		known int
	}{
		{"hub.db", records.SchemaVersion()},
		{operators.FileName, operators.SchemaVersion()},
		{passes.DBFile, passes.SchemaVersion()},
	} {
		t.Run(st.file, func(t *testing.T) {
			dir := t.TempDir()
			seed(t, dir)
			// Every store made by this build, then one pushed past it.
			o, err := operators.Open(filepath.Join(dir, operators.FileName), nil)
			if err != nil {
				t.Fatal(err)
			}
			o.Close()
			p, err := passes.Open(dir, nil)
			if err != nil {
				t.Fatal(err)
			}
			p.Close()
			storeversiontest.SetVersion(t, filepath.Join(dir, st.file), st.known+1)
			before := storeversiontest.Snapshot(t, dir)[st.file]
			err = run(t, t.Context(), io.Discard, "serve", "--data", dir, "--mqtt-listen", testkit.FreeAddr(t),
				"--mqtts-listen", "off", "--enroll-listen", "off", "--http-listen", "127.0.0.1:0")
			want := fmt.Sprintf("%s is at schema version %d but this hub knows versions up to %d: "+
				"it was written by a newer gatepost; install that version again (or restore a backup made by this one)",
				st.file, st.known+1, st.known)
			if !errors.Is(err, storeversion.ErrNewer) || !strings.Contains(err.Error(), want) {
				t.Fatalf("hub serve with %s at version %d = %v; want it refused saying %q", st.file, st.known+1, err, want)
			}
			if after := storeversiontest.Snapshot(t, dir)[st.file]; !bytes.Equal(after, before) {
				t.Errorf("hub serve changed the %s it refused", st.file)
			}
		})
	}
}
