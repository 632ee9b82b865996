package journal

import (
	"context"
	"testing"
	"time"
)

// TestRewind: a rewind lowers the acknowledged position and nothing else;
// the entries after it are unsent again and kept from retention, it
// survives reopening the file, a rewind upwards changes nothing, and a
// later ack marks entries synced again.
func TestRewind(t *testing.T) {
	j, path := openTemp(t)
	ctx := context.Background()
	appendN(t, j, 10)
	if _, err := j.Ack(ctx, 10, time.Now()); err != nil {
		t.Fatal(err)
	}
	from, err := j.Rewind(ctx, 6)
	if err != nil || from != 10 {
		t.Fatalf("Rewind(6) = %d, %v; want 10, nil", from, err)
	}
	if from, err := j.Rewind(ctx, 8); err != nil || from != 6 {
		t.Fatalf("Rewind(8) after Rewind(6) = %d, %v; want 6 and no change", from, err)
	}
	if n, err := j.Purge(ctx, time.Now().Add(time.Hour)); err != nil || n != 6 {
		t.Fatalf("Purge after the rewind deleted %d (%v), want the 6 entries still acknowledged", n, err)
	}
	j.Close()
	j, err = Open(path, "gate-1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	st, err := j.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.AckedSeq != 6 || st.Unsynced != 4 || st.Entries != 4 {
		t.Fatalf("after reopening: acked %d, unsynced %d, entries %d; want 6, 4, 4", st.AckedSeq, st.Unsynced, st.Entries)
	}
	unsent, err := j.UnsentEncoded(ctx, st.AckedSeq, 100)
	if err != nil || len(unsent) != 4 || unsent[0].Seq != 7 {
		t.Fatalf("UnsentEncoded after the rewind = %d entries (%v), want 7..10", len(unsent), err)
	}
	if changed, err := j.Ack(ctx, 10, time.Now()); err != nil || !changed {
		t.Fatalf("Ack(10) after the rewind = %v, %v; want it recorded", changed, err)
	}
}

// TestMissing names the entries after the acknowledged position the
// journal no longer holds: none normally, and those purged while
// acknowledged once the position is rewound below them.
func TestMissing(t *testing.T) {
	j, _ := openTemp(t)
	ctx := context.Background()
	check := func(wantFrom, wantTo uint64) {
		t.Helper()
		from, to, err := j.Missing(ctx)
		if err != nil || from != wantFrom || to != wantTo {
			t.Fatalf("Missing() = %d..%d, %v; want %d..%d", from, to, err, wantFrom, wantTo)
		}
	}
	check(0, 0)
	appendN(t, j, 8)
	if _, err := j.Ack(ctx, 8, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := j.Purge(ctx, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	check(0, 0)
	if _, err := j.Rewind(ctx, 5); err != nil {
		t.Fatal(err)
	}
	check(6, 8) // nothing held after the position: up to the last written
	appendN(t, j, 2)
	check(6, 8)
	if _, err := j.Rewind(ctx, 0); err != nil {
		t.Fatal(err)
	}
	check(1, 8)
}
