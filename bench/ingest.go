package main

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"time"

	"github.com/gatepost/gatepost/hub/records"
	"github.com/gatepost/gatepost/protocol"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// benchIngest times the hub's SaveBatch (idempotence check, contiguous
// bookkeeping, one transaction per 1000-entry batch) against a raw
// batched INSERT of the same rows into the same table shape with the same
// pragmas: the cost of being idempotent and knowing the gaps.
func benchIngest(ctx context.Context, dir string, n int) (result, error) {
	store, err := records.Open(filepath.Join(dir, "ingest.db"))
	if err != nil {
		return result{}, err
	}
	defer store.Close()
	batches := makeBatches("bench-1", n)
	received := time.Now()
	start := time.Now()
	for _, b := range batches {
		if _, err := store.SaveBatch(ctx, b, received); err != nil {
			return result{}, err
		}
	}
	ours := float64(n) / time.Since(start).Seconds()

	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "raw.db")+
		"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)")
	if err != nil {
		return result{}, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`CREATE TABLE entries (kiosk TEXT NOT NULL, seq INTEGER NOT NULL, site TEXT NOT NULL,
		id TEXT NOT NULL, time TEXT NOT NULL, kind TEXT NOT NULL, decision TEXT NOT NULL, body TEXT NOT NULL,
		received_at INTEGER NOT NULL, PRIMARY KEY (kiosk, seq)) WITHOUT ROWID`); err != nil {
		return result{}, err
	}
	start = time.Now()
	for _, b := range batches {
		if err := rawInsert(ctx, db, b, received); err != nil {
			return result{}, err
		}
	}
	raw := float64(n) / time.Since(start).Seconds()
	return result{
		name: "ingest", unit: "entries/s", ours: ours, baseline: raw, baseName: "raw INSERT", higherIsBetter: true,
		detail: fmt.Sprintf("%d entries in batches of %d, WAL + synchronous=FULL, one transaction per batch; target ≥ 0.5x raw",
			n, protocol.MaxBatchEntries),
	}, nil
}

func makeBatches(kiosk string, n int) []protocol.Batch {
	var bs []protocol.Batch
	for seq := 1; seq <= n; seq += protocol.MaxBatchEntries {
		b := protocol.Batch{Kiosk: kiosk, Site: "site-1", Sent: time.Now()}
		for s := seq; s < seq+protocol.MaxBatchEntries && s <= n; s++ {
			b.Entries = append(b.Entries, entry(kiosk, uint64(s)))
		}
		bs = append(bs, b)
	}
	return bs
}

func rawInsert(ctx context.Context, db *sql.DB, b protocol.Batch, received time.Time) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	st, err := tx.PrepareContext(ctx, `INSERT INTO entries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer st.Close()
	for _, e := range b.Entries {
		body, err := protocol.EncodeEntry(e)
		if err != nil {
			return err
		}
		if _, err := st.ExecContext(ctx, e.Kiosk, int64(e.Seq), b.Site, e.ID, e.Time.Format(time.RFC3339Nano),
			string(e.Kind), string(e.Decision), string(body), received.UnixNano()); err != nil {
			return err
		}
	}
	return tx.Commit()
}
