package journal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/gatepost/gatepost/protocol"
	"github.com/gatepost/gatepost/protocol/protocoltest"
)

const hubJournal = "0190d6e4-7a4b-7cc0-8b8e-00000000a0a0"

// fillForRebase appends six entries (seqs 2 and 5 alerts), a downlink and
// a calibration, and returns the entries as appended.
func fillForRebase(t *testing.T, j *Journal) []protocol.Entry {
	t.Helper()
	ctx := context.Background()
	var out []protocol.Entry
	for i := 0; i < 6; i++ {
		e := protocoltest.Entry(protocoltest.Scan("x"))
		if i%3 == 1 {
			e.Decision, e.Reasons = protocol.DecisionAlert, []string{"fever"}
		}
		got, err := j.Append(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, got)
	}
	if _, err := j.SaveDownlink(ctx, downlink(4, `{"fever_c":37.4}`)); err != nil {
		t.Fatal(err)
	}
	if err := j.RecordCalibration(ctx, Calibration{Time: t0, OffsetC: 0.3, ReferenceC: 37, ReadingsC: []float64{36.7}, By: "tech"}); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRebaseRenumbersAfterTheHub(t *testing.T) {
	j, path := openTemp(t)
	ctx := context.Background()
	before := fillForRebase(t, j)
	ownID := j.ID()
	if len(ownID) != 36 {
		t.Fatalf("new journal ID() = %q, want a UUID", ownID)
	}
	got, err := j.Rebase(ctx, hubJournal, 812, protocol.Genesis)
	if err != nil {
		t.Fatal(err)
	}
	if got != (Rebased{Entries: 6, From: 813, LastSeq: 818}) {
		t.Errorf("Rebase = %+v, want 6 entries from 813, last 818", got)
	}
	if j.ID() != hubJournal {
		t.Errorf("after Rebase ID() = %q, want the hub's %q", j.ID(), hubJournal)
	}
	check := func(j *Journal) {
		t.Helper()
		es, err := j.Unsent(ctx, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(es) != len(before) {
			t.Fatalf("Unsent(0) = %d entries, want %d", len(es), len(before))
		}
		for i, e := range es {
			want := before[i]
			want.Seq += 812
			if e.Seq != want.Seq || e.ID != want.ID || e.Decision != want.Decision || !e.Time.Equal(want.Time) {
				t.Errorf("entry %d = seq %d id %s %s, want seq %d id %s %s", i, e.Seq, e.ID, e.Decision, want.Seq, want.ID, want.Decision)
			}
		}
		raw, err := j.UnsentEncoded(ctx, 812, 100)
		if err != nil || len(raw) != 6 {
			t.Fatalf("UnsentEncoded(812) = %d, %v", len(raw), err)
		}
		for _, r := range raw {
			e, err := protocol.DecodeEntry(r.Body)
			if err != nil || e.Seq != r.Seq {
				t.Errorf("stored body of seq %d decodes to seq %d, %v", r.Seq, e.Seq, err)
			}
		}
		alerts, err := j.UnsentAlerts(ctx, 812, 10)
		if err != nil || len(alerts) != 2 || alerts[0].Seq != 814 || alerts[1].Seq != 817 {
			t.Errorf("UnsentAlerts(812) = %v, %v; want seqs 814 and 817", alerts, err)
		}
		if a, _ := j.UnsentAlerts(ctx, 814, 10); len(a) != 1 || a[0].Seq != 817 {
			t.Errorf("UnsentAlerts(814) = %v, want seq 817", a)
		}
		st, err := j.Status(ctx)
		if err != nil || st.LastSeq != 818 || st.AckedSeq != 812 || st.Unsynced != 6 || st.Entries != 6 || st.ID != hubJournal {
			t.Errorf("Status = %+v, %v; want last 818, acked 812, 6 unsynced, journal %s", st, err, hubJournal)
		}
		if v, p, err := j.Downlink(ctx, protocol.DownlinkConfig); v != 4 || string(p) != `{"fever_c":37.4}` || err != nil {
			t.Errorf("Downlink after Rebase = %d, %s, %v; want v4 as saved", v, p, err)
		}
		if c, ok, err := j.CurrentCalibration(ctx); !ok || c.OffsetC != 0.3 || c.By != "tech" || err != nil {
			t.Errorf("CurrentCalibration after Rebase = %+v, %v, %v", c, ok, err)
		}
	}
	check(j)
	e, err := j.Append(ctx, protocoltest.Entry(protocoltest.Scan("after")))
	if err != nil || e.Seq != 819 {
		t.Fatalf("Append after Rebase = seq %d, %v; want 819", e.Seq, err)
	}
	if changed, err := j.Ack(ctx, 815, t0); !changed || err != nil {
		t.Errorf("Ack(815) after Rebase = %v, %v; want applied", changed, err)
	}
	if _, err := j.Ack(ctx, 820, t0); !errors.Is(err, ErrAckAhead) {
		t.Errorf("Ack(820) after Rebase = %v, want ErrAckAhead", err)
	}
	j.Close()

	// The id and numbering survive a reopen, and a read-only reader sees them.
	j2, err := Open(path, "gate-1")
	if err != nil {
		t.Fatal(err)
	}
	defer j2.Close()
	if j2.ID() != hubJournal {
		t.Errorf("reopened ID() = %q, want %q", j2.ID(), hubJournal)
	}
	ro, err := OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if ro.ID() != hubJournal {
		t.Errorf("read-only ID() = %q, want %q", ro.ID(), hubJournal)
	}
}

func TestRebaseRefusedOnceAcked(t *testing.T) {
	j, _ := openTemp(t)
	ctx := context.Background()
	fillForRebase(t, j)
	if _, err := j.Ack(ctx, 1, t0); err != nil {
		t.Fatal(err)
	}
	id := j.ID()
	if _, err := j.Rebase(ctx, hubJournal, 812, protocol.Genesis); !errors.Is(err, ErrRebaseUnsafe) {
		t.Fatalf("Rebase of an acked journal = %v, want ErrRebaseUnsafe", err)
	}
	st, _ := j.Status(ctx)
	if st.LastSeq != 6 || st.AckedSeq != 1 || j.ID() != id {
		t.Errorf("after a refused Rebase: %+v, id %s; want last 6, acked 1, id %s", st, j.ID(), id)
	}
}

func TestRebaseOfAnEmptyJournal(t *testing.T) {
	j, _ := openTemp(t)
	ctx := context.Background()
	if got, err := j.Rebase(ctx, hubJournal, 40, protocol.Genesis); err != nil || got != (Rebased{LastSeq: 40}) {
		t.Fatalf("Rebase(empty) = %+v, %v", got, err)
	}
	if e, err := j.Append(ctx, protocoltest.Entry(protocoltest.Scan("first"))); err != nil || e.Seq != 41 {
		t.Fatalf("first Append after Rebase = %d, %v; want 41", e.Seq, err)
	}
}

// TestRebaseIsAtomic makes the rebase fail half-way, once in SQLite (a
// trigger refuses one row's new number after the rows above it moved)
// and once on a damaged stored body, and checks nothing changed.
func TestRebaseIsAtomic(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage string
	}{
		{"sqlite refuses a row", `CREATE TRIGGER refuse BEFORE UPDATE OF seq ON entries WHEN NEW.seq = 815
			BEGIN SELECT RAISE(ABORT, 'injected failure'); END`},
		{"damaged body", `UPDATE entries SET body = '{"kiosk":"gate-1"}' WHERE seq = 2`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j, _ := openTemp(t)
			ctx := context.Background()
			fillForRebase(t, j)
			if _, err := j.db.ExecContext(ctx, tc.damage); err != nil {
				t.Fatal(err)
			}
			want := dump(t, j.db)
			id := j.ID()
			if _, err := j.Rebase(ctx, hubJournal, 812, protocol.Genesis); err == nil {
				t.Fatal("Rebase = nil error, want the injected failure")
			}
			if got := dump(t, j.db); got != want {
				t.Errorf("after a failed Rebase the journal is\n%s\nwant\n%s", got, want)
			}
			if j.ID() != id {
				t.Errorf("after a failed Rebase ID() = %q, want %q", j.ID(), id)
			}
		})
	}
}

// dump is the entries and the state row as text.
func dump(t *testing.T, db *sql.DB) string {
	t.Helper()
	var out string
	rows, err := db.Query(`SELECT seq, id, alert, body FROM entries ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var seq, alert int
		var id, body string
		if err := rows.Scan(&seq, &id, &alert, &body); err != nil {
			t.Fatal(err)
		}
		out += fmt.Sprintf("%d %s %d %s\n", seq, id, alert, body)
	}
	var last, acked int
	var jid string
	if err := db.QueryRow(`SELECT last_seq, acked, journal FROM state`).Scan(&last, &acked, &jid); err != nil {
		t.Fatal(err)
	}
	return out + fmt.Sprintf("state %d %d %s", last, acked, jid)
}

func TestOldJournalGetsAnID(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.db")
	// A journal as builds before journal ids wrote it.
	db, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE entries (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, time TEXT NOT NULL, body BLOB NOT NULL);
		CREATE TABLE state (one INTEGER PRIMARY KEY CHECK (one = 1), kiosk TEXT NOT NULL, last_seq INTEGER NOT NULL, acked INTEGER NOT NULL, acked_at TEXT);
		INSERT INTO state VALUES (1, 'gate-1', 0, 0, NULL)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	ro, err := OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	if ro.ID() != "" {
		t.Errorf("read-only ID() of an old journal = %q, want none", ro.ID())
	}
	ro.Close()
	j, err := Open(path, "gate-1")
	if err != nil {
		t.Fatal(err)
	}
	id := j.ID()
	j.Close()
	if len(id) != 36 {
		t.Fatalf("ID() after opening an old journal = %q, want a UUID", id)
	}
	j, err = Open(path, "gate-1")
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if j.ID() != id {
		t.Errorf("ID() changed on reopen: %q, then %q", id, j.ID())
	}
}
