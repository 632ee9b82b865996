package journal

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gatepost/gatepost/protocol/protocoltest"
	"go.uber.org/goleak"
)

// t0 is the time of the entries the tests append.
var t0 = protocoltest.T0

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func openTemp(t *testing.T) (*Journal, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "journal.db")
	j, err := Open(path, "gate-1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return j, path
}

func appendN(t *testing.T, j *Journal, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		if _, err := j.Append(context.Background(), protocoltest.Entry(protocoltest.Scan("x"))); err != nil {
			t.Fatal(err)
		}
	}
}

func TestAppendNumbersFromOne(t *testing.T) {
	j, path := openTemp(t)
	ctx := context.Background()
	for want := uint64(1); want <= 3; want++ {
		e, err := j.Append(ctx, protocoltest.Entry(protocoltest.Scan("a")))
		if err != nil {
			t.Fatal(err)
		}
		if e.Seq != want || e.Kiosk != "gate-1" || len(e.ID) != 36 {
			t.Fatalf("Append = seq %d kiosk %q id %q, want seq %d", e.Seq, e.Kiosk, e.ID, want)
		}
	}
	j.Close()
	j2, err := Open(path, "gate-1")
	if err != nil {
		t.Fatal(err)
	}
	defer j2.Close()
	e, err := j2.Append(ctx, protocoltest.Entry(protocoltest.Scan("after reopen")))
	if err != nil || e.Seq != 4 {
		t.Fatalf("Append after reopen = seq %d, %v; want 4", e.Seq, err)
	}
	got, err := j2.Unsent(ctx, 0, 10)
	if err != nil || len(got) != 4 || got[3].Scan != "after reopen" {
		t.Fatalf("Unsent = %d entries, %v", len(got), err)
	}
}

func TestAppendConcurrentKeepsSequenceDense(t *testing.T) {
	j, _ := openTemp(t)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				if _, err := j.Append(context.Background(), protocoltest.Entry(protocoltest.Scan("c"))); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	got, err := j.Unsent(context.Background(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range got {
		if e.Seq != uint64(i+1) {
			t.Fatalf("entry %d has seq %d: sequence has a gap or duplicate", i, e.Seq)
		}
	}
	if len(got) != 100 {
		t.Fatalf("got %d entries, want 100", len(got))
	}
}

func TestAck(t *testing.T) {
	j, _ := openTemp(t)
	ctx := context.Background()
	appendN(t, j, 5)
	for _, tc := range []struct {
		ack     uint64
		changed bool
		err     error
		acked   uint64
	}{
		{3, true, nil, 3},
		{2, false, nil, 3}, // late ack changes nothing
		{3, false, nil, 3}, // repeated ack changes nothing
		{9, false, ErrAckAhead, 3},
		{5, true, nil, 5},
	} {
		changed, err := j.Ack(ctx, tc.ack, t0)
		if changed != tc.changed || !errors.Is(err, tc.err) {
			t.Errorf("Ack(%d) = %v, %v; want %v, %v", tc.ack, changed, err, tc.changed, tc.err)
		}
		if got, _ := j.Acked(ctx); got != tc.acked {
			t.Errorf("after Ack(%d) Acked = %d, want %d", tc.ack, got, tc.acked)
		}
	}
	st, err := j.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Unsynced != 0 || st.LastSeq != 5 || st.AckedSeq != 5 || st.LastAck == nil || !st.LastAck.Equal(t0) {
		t.Errorf("Status = %+v", st)
	}
}

func TestStatusReadOnlyWhileWriting(t *testing.T) {
	j, path := openTemp(t)
	ctx := context.Background()
	appendN(t, j, 4)
	if _, err := j.Ack(ctx, 1, t0); err != nil {
		t.Fatal(err)
	}
	ro, err := OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	st, err := ro.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Kiosk != "gate-1" || st.Entries != 4 || st.Unsynced != 3 || st.OldestUnsynced == nil || st.SizeBytes == 0 {
		t.Errorf("read-only Status = %+v", st)
	}
	appendN(t, j, 1) // the writer is not blocked by the reader
	if st, _ := ro.Status(ctx); st.LastSeq != 5 {
		t.Errorf("reader sees last_seq %d after a new append, want 5", st.LastSeq)
	}
	if _, err := OpenReadOnly(filepath.Join(t.TempDir(), "missing.db")); err == nil {
		t.Error("OpenReadOnly(missing file) = nil error")
	}
}

func TestOpenAsOtherKioskRefused(t *testing.T) {
	j, path := openTemp(t)
	appendN(t, j, 1)
	j.Close()
	if _, err := Open(path, "gate-2"); !errors.Is(err, ErrOtherKiosk) {
		t.Fatalf("Open as gate-2 = %v, want ErrOtherKiosk", err)
	}
}

func TestUnsentAfter(t *testing.T) {
	j, _ := openTemp(t)
	appendN(t, j, 10)
	got, err := j.Unsent(context.Background(), 4, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].Seq != 5 || got[2].Seq != 7 {
		t.Fatalf("Unsent(4, 3) = %d entries starting %v", len(got), got)
	}
}

func BenchmarkAppend(b *testing.B) {
	j, err := Open(filepath.Join(b.TempDir(), "journal.db"), "gate-1")
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	ctx := context.Background()
	e := protocoltest.Entry(protocoltest.Scan("GP1.resident.3-502"))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := j.Append(ctx, e); err != nil {
			b.Fatal(err)
		}
	}
}

func TestRecent(t *testing.T) {
	j, _ := openTemp(t)
	ctx := context.Background()
	for i := range 10 {
		e := protocoltest.Entry(protocoltest.Scan(fmt.Sprintf("x%d", i)))
		e.Time = t0.Add(time.Duration(i) * time.Minute)
		if _, err := j.Append(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	got, err := j.Recent(ctx, t0.Add(6*time.Minute), 100)
	if err != nil {
		t.Fatal(err)
	}
	var scans []string
	for _, e := range got {
		scans = append(scans, e.Scan)
	}
	if want := []string{"x6", "x7", "x8", "x9"}; !slices.Equal(scans, want) {
		t.Errorf("Recent since minute 6 = %v, want %v (oldest first)", scans, want)
	}
	if got, err := j.Recent(ctx, t0, 3); err != nil || len(got) != 3 || got[0].Scan != "x7" {
		t.Errorf("Recent limited to 3 = %d entries starting %v, %v; want x7..x9", len(got), got, err)
	}
}
