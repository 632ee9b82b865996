// Package journal is the kiosk's local record of every entry: a SQLite file
// in WAL mode with synchronous=FULL, written by one connection. Append
// gives each entry the kiosk's next sequence number in the same
// transaction that stores it, so what a guard saw is on disk with a
// number before the screen shows it. Entries stay until the hub
// acknowledges them. Its idle checkpoints run on an injected clock
// (Options.Clock).
//
// The kiosk's packages (daemon, uplink, the commands) and the benchmarks
// import journal; it imports protocol, internal/clock and
// internal/storeversion (its schema version: version.go).
package journal

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/gatepost/gatepost/internal/clock"
	"github.com/gatepost/gatepost/internal/storeversion"
	"github.com/gatepost/gatepost/protocol"
	"github.com/google/uuid"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// ErrAckAhead means the hub acknowledged sequence numbers this journal
// never wrote: the journal was replaced or the hub holds another kiosk's
// data under this id.
var ErrAckAhead = errors.New("hub acknowledged entries this journal never wrote")

// ErrOtherKiosk means the journal file belongs to another kiosk id.
var ErrOtherKiosk = errors.New("journal belongs to another kiosk")

// Journal is an open journal file.
type Journal struct {
	db    *sql.DB
	path  string
	kiosk string
	ckpt  *checkpointer // nil when read-only
	clock clock.Clock

	mu sync.Mutex
	id string // the journal's id; a rebase adopts the hub's

	writers writers // writes in progress (liveness.go)
	inWrite func()  // Options.InWrite
	noChain bool    // Options.NoChain
}

// Status is what `kiosk status` reports.
type Status struct {
	Kiosk          string     `json:"kiosk"`
	ID             string     `json:"journal_id"` // see Journal.ID
	Path           string     `json:"journal"`
	SizeBytes      int64      `json:"journal_bytes"` // database plus write-ahead log
	Entries        int64      `json:"entries"`       // entries held
	LastSeq        uint64     `json:"last_seq"`
	AckedSeq       uint64     `json:"acked_seq"` // hub holds 1..AckedSeq
	Unsynced       uint64     `json:"unsynced"`
	LastAck        *time.Time `json:"last_ack"`        // when the hub last moved AckedSeq
	OldestUnsynced *time.Time `json:"oldest_unsynced"` // kiosk time of the first unsynced entry
}

const schema = `
CREATE TABLE IF NOT EXISTS entries (
	seq  INTEGER PRIMARY KEY,
	id   TEXT NOT NULL UNIQUE,
	time TEXT NOT NULL,
	body BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS downlinks (
	kind    TEXT PRIMARY KEY,
	version INTEGER NOT NULL,
	issued  TEXT NOT NULL,
	body    BLOB NOT NULL -- protocol.EncodeDownlink
);
CREATE TABLE IF NOT EXISTS state (
	one      INTEGER PRIMARY KEY CHECK (one = 1),
	kiosk    TEXT NOT NULL,
	last_seq INTEGER NOT NULL,
	acked    INTEGER NOT NULL,
	acked_at TEXT,
	journal  TEXT NOT NULL DEFAULT '' -- the journal's id (Journal.ID)
);
`

// cacheKiB caps each connection's SQLite page cache. SQLite's default,
// 2,000 KiB, fills as the journal grows to that size and stays resident:
// 3 MB of a kiosk's memory once its C allocator's overhead is counted
// (bench/soak, docs/benchmarks.md "Soak"), for nothing, since a kiosk
// appends at the end of the entries (ids are UUIDv7, in time order too)
// and reads back only the unacknowledged tail. The operating system's
// file cache holds the rest.
const cacheKiB = 512

func dsn(path string, readOnly bool) string {
	q := url.Values{}
	// busy_timeout first: switching to WAL can itself meet a busy lock.
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", fmt.Sprintf("cache_size(%d)", -cacheKiB))
	if readOnly {
		q.Add("mode", "ro")
	} else {
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(FULL)")
		// The checkpointer folds the log into the database while the gate
		// is idle; SQLite's own checkpoint inside a commit is the safety
		// net for a gate that is never idle.
		q.Add("_pragma", fmt.Sprintf("wal_autocheckpoint(%d)", autoCheckpointPages))
	}
	return "file:" + path + "?" + q.Encode()
}

// Options tune a journal; the zero value is what the kiosk runs with.
type Options struct {
	// Clock times the idle checkpoints and stamps a rebase; nil is the
	// wall clock.
	Clock clock.Clock
	// IdleCheckpoint is how long the journal must be quiet before it
	// folds its log in (0: half a second).
	IdleCheckpoint time.Duration
	// InWrite, when set, is called at the start of every write that
	// stores entries or acks, inside the write's time: tests block in it
	// to wedge the writer and see the kiosk's watchdog stop. Nil in
	// production.
	InWrite func()
	// NoChain writes entries without prev and without their chain hash,
	// as before the chain: for the benchmark of what the chain costs
	// (bench -only chaincost) alone. A kiosk never sets it, and a hub
	// refuses what such a journal sends once it holds chained entries.
	NoChain bool
}

// Open opens or creates the journal at path for kiosk. A journal keeps the
// kiosk id it was created with; opening it as another kiosk fails with
// ErrOtherKiosk, since sequence numbers belong to one kiosk.
func Open(path, kiosk string) (*Journal, error) { return OpenWith(path, kiosk, Options{}) }

// OpenWith is Open with options.
func OpenWith(path, kiosk string, o Options) (*Journal, error) {
	db, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		return nil, fmt.Errorf("open journal %s: %w", path, err)
	}
	db.SetMaxOpenConns(1) // one writer
	j := &Journal{db: db, path: path, kiosk: kiosk, clock: clock.Or(o.Clock), inWrite: o.InWrite, noChain: o.NoChain}
	if err := j.init(kiosk); err != nil {
		db.Close()
		return nil, fmt.Errorf("open journal %s: %w", path, err)
	}
	j.ckpt = startCheckpointer(path, cmp.Or(o.IdleCheckpoint, idleCheckpointAfter), j.clock)
	return j, nil
}

func (j *Journal) init(kiosk string) error {
	if err := j.migrate(context.Background()); err != nil {
		return err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return fmt.Errorf("new journal id: %w", err)
	}
	if _, err := j.db.Exec(`INSERT OR IGNORE INTO state (one, kiosk, last_seq, acked, journal) VALUES (1, ?, 0, 0, ?)`, kiosk, id.String()); err != nil {
		return err
	}
	if _, err := j.db.Exec(`UPDATE state SET journal = ? WHERE journal = ''`, id.String()); err != nil {
		return err
	}
	var owner string
	if err := j.db.QueryRow(`SELECT kiosk, journal FROM state`).Scan(&owner, &j.id); err != nil {
		return err
	}
	if owner != kiosk {
		return fmt.Errorf("%w: it was written by kiosk %q, this is %q", ErrOtherKiosk, owner, kiosk)
	}
	return nil
}

// OpenReadOnly opens an existing journal for reading while a daemon may be
// writing it (WAL lets both run).
func OpenReadOnly(path string) (*Journal, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("open journal: %w", err)
	}
	db, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		return nil, fmt.Errorf("open journal %s: %w", path, err)
	}
	j := &Journal{db: db, path: path, clock: clock.Real()}
	if _, err := storeversion.CheckDB(context.Background(), db, filepath.Base(path), SchemaVersion, "kiosk"); err != nil {
		db.Close()
		return nil, fmt.Errorf("open journal %s: %w", path, err)
	}
	if err := db.QueryRow(`SELECT kiosk FROM state`).Scan(&j.kiosk); err != nil {
		db.Close()
		return nil, fmt.Errorf("open journal %s: not a gatepost journal: %w", path, err)
	}
	// A journal no daemon of this version has opened yet has no id ("").
	var hasID int
	if err := db.QueryRow(`SELECT count(*) FROM pragma_table_info('state') WHERE name = 'journal'`).Scan(&hasID); err == nil && hasID == 1 {
		if err := db.QueryRow(`SELECT journal FROM state`).Scan(&j.id); err != nil {
			db.Close()
			return nil, fmt.Errorf("open journal %s: %w", path, err)
		}
	}
	return j, nil
}

// Close stops the checkpointer and closes the file.
func (j *Journal) Close() error {
	if j.ckpt != nil {
		j.ckpt.stop()
	}
	return j.db.Close()
}

// Kiosk returns the kiosk id the journal belongs to.
func (j *Journal) Kiosk() string { return j.kiosk }

// ID returns the journal's id: a UUIDv7 made when the journal was created
// (or first opened by a build that knows ids), or the hub's journal id
// once Rebase adopted it. Batches carry it, so that the hub can tell a
// replaced journal, which numbers from 1 again, from the one it holds.
func (j *Journal) ID() string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.id
}

// Append stores e as the kiosk's next entry and returns it with its
// sequence number, kiosk id and (if e had none) a new UUIDv7 id. When
// Append returns nil the entry is durable.
func (j *Journal) Append(ctx context.Context, e protocol.Entry) (protocol.Entry, error) {
	out, err := j.AppendMany(ctx, []protocol.Entry{e})
	if err != nil {
		return protocol.Entry{}, err
	}
	return out[0], nil
}

// AppendMany stores es as the kiosk's next entries, in order, in one
// transaction: all or none. It is Append for records made together (and
// for filling a journal quickly in benchmarks).
func (j *Journal) AppendMany(ctx context.Context, es []protocol.Entry) ([]protocol.Entry, error) {
	out, personal, err := j.prepare(es)
	if err != nil {
		return nil, err
	}
	defer j.begin()()
	tx, err := j.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("append entry: %w", err)
	}
	defer tx.Rollback()
	// The sequence and the chain's head are read under the write lock, in
	// the transaction that writes after them: only what depends on them
	// (the number, the prev in the body, one SHA-256) is done here.
	var seq uint64
	var headBytes []byte
	if err := tx.QueryRowContext(ctx, `SELECT last_seq, head FROM state`).Scan(&seq, &headBytes); err != nil {
		return nil, fmt.Errorf("append entry: %w", err)
	}
	head := headOf(headBytes)
	// A prepared statement pays off only for several entries; Append (one)
	// is on the path between a scan and the screen.
	const insertSQL = `INSERT INTO entries (seq, id, time, body, alert, hash) VALUES (?, ?, ?, ?, ?, ?)`
	exec := func(ctx context.Context, args ...any) (sql.Result, error) {
		return tx.ExecContext(ctx, insertSQL, args...)
	}
	if len(es) > 1 {
		insert, err := tx.PrepareContext(ctx, insertSQL)
		if err != nil {
			return nil, fmt.Errorf("append entry: %w", err)
		}
		defer insert.Close()
		exec = insert.ExecContext
	}
	for i := range out {
		e := &out[i]
		seq++
		e.Seq, e.Prev = seq, protocol.HashText(head)
		if j.noChain {
			e.Prev = ""
		}
		body, err := protocol.EncodeValidEntry(*e) // prepare validated it
		if err != nil {
			return nil, fmt.Errorf("append entry: %w", err)
		}
		var hash []byte
		if !j.noChain {
			head = protocol.EntryHashWith(head, personal[i], *e)
			hash = head[:]
		}
		if _, err := exec(ctx, e.Seq, e.ID, e.Time.UTC().Format(time.RFC3339Nano), body,
			e.Urgent(), hash); err != nil {
			return nil, fmt.Errorf("append entry: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE state SET last_seq = ?, head = ?`, seq, head[:]); err != nil {
		return nil, fmt.Errorf("append entry: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("append entry: commit: %w", err)
	}
	j.wrote(len(es))
	return out, nil
}

// prepare does, before the write transaction, what of appending es does
// not depend on where they go in the journal: an id for each entry that
// has none, the kiosk, the check of every field, and the digest of the
// personal fields that the chain hash covers (protocol.PersonalDigest).
// The sequence and prev it sets are stand-ins for the check (any
// sequence and hash are of the same form); AppendMany sets the real ones.
func (j *Journal) prepare(es []protocol.Entry) ([]protocol.Entry, [][32]byte, error) {
	out := make([]protocol.Entry, len(es))
	personal := make([][32]byte, len(es))
	for i, e := range es {
		if e.ID == "" {
			id, err := uuid.NewV7()
			if err != nil {
				return nil, nil, fmt.Errorf("append entry: new id: %w", err)
			}
			e.ID = id.String()
		}
		e.Kiosk, e.Seq, e.Prev = j.kiosk, 1, protocol.HashText(protocol.Genesis)
		if err := e.Validate(); err != nil {
			return nil, nil, fmt.Errorf("append entry: %w", err)
		}
		if !j.noChain {
			personal[i] = protocol.PersonalDigest(e)
		}
		out[i] = e
	}
	return out, personal, nil
}

// Unsent returns up to limit entries with sequence numbers above after, in
// order. They are the ones to (re)send.
func (j *Journal) Unsent(ctx context.Context, after uint64, limit int) ([]protocol.Entry, error) {
	rows, err := j.db.QueryContext(ctx, `SELECT body FROM entries WHERE seq > ? ORDER BY seq LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("read unsent entries: %w", err)
	}
	defer rows.Close()
	var out []protocol.Entry
	for rows.Next() {
		var body []byte
		if err := rows.Scan(&body); err != nil {
			return nil, fmt.Errorf("read unsent entries: %w", err)
		}
		e, err := protocol.DecodeEntry(body)
		if err != nil {
			return nil, fmt.Errorf("read unsent entries: stored entry is damaged: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Recent returns the entries written at or after since (kiosk clock),
// oldest first, at most limit of them (the newest). It reads back from the
// last sequence and stops at the first entry older than since.
func (j *Journal) Recent(ctx context.Context, since time.Time, limit int) ([]protocol.Entry, error) {
	rows, err := j.db.QueryContext(ctx, `SELECT body FROM entries ORDER BY seq DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("read recent entries: %w", err)
	}
	defer rows.Close()
	var out []protocol.Entry
	for rows.Next() {
		var body []byte
		if err := rows.Scan(&body); err != nil {
			return nil, fmt.Errorf("read recent entries: %w", err)
		}
		e, err := protocol.DecodeEntry(body)
		if err != nil {
			return nil, fmt.Errorf("read recent entries: stored entry is damaged: %w", err)
		}
		if e.Time.Before(since) {
			break
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read recent entries: %w", err)
	}
	slices.Reverse(out)
	return out, nil
}

// Acked returns the highest sequence the hub has acknowledged.
func (j *Journal) Acked(ctx context.Context) (uint64, error) {
	var acked uint64
	err := j.db.QueryRowContext(ctx, `SELECT acked FROM state`).Scan(&acked)
	return acked, err
}

// Ack records that the hub holds every entry up to contiguous. An ack at
// or below the recorded one changes nothing (acks arrive late, twice, or
// retained from before a restart) and returns false.
func (j *Journal) Ack(ctx context.Context, contiguous uint64, at time.Time) (bool, error) {
	defer j.begin()()
	res, err := j.db.ExecContext(ctx,
		`UPDATE state SET acked = ?, acked_at = ? WHERE acked < ? AND ? <= last_seq`,
		contiguous, at.UTC().Format(time.RFC3339Nano), contiguous, contiguous)
	if err != nil {
		return false, fmt.Errorf("record ack: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		j.wrote(1)
		return true, nil
	}
	var last uint64
	if err := j.db.QueryRowContext(ctx, `SELECT last_seq FROM state`).Scan(&last); err != nil {
		return false, fmt.Errorf("record ack: %w", err)
	}
	if contiguous > last {
		return false, fmt.Errorf("%w: ack %d, last written %d", ErrAckAhead, contiguous, last)
	}
	return false, nil
}

// Status reports the journal's size and sync position.
func (j *Journal) Status(ctx context.Context) (Status, error) {
	s := Status{Kiosk: j.kiosk, ID: j.ID(), Path: j.path}
	var ackedAt sql.NullString
	if err := j.db.QueryRowContext(ctx, `SELECT last_seq, acked, acked_at FROM state`).Scan(&s.LastSeq, &s.AckedSeq, &ackedAt); err != nil {
		return Status{}, fmt.Errorf("journal status: %w", err)
	}
	if err := j.db.QueryRowContext(ctx, `SELECT count(*) FROM entries`).Scan(&s.Entries); err != nil {
		return Status{}, fmt.Errorf("journal status: %w", err)
	}
	s.Unsynced = s.LastSeq - s.AckedSeq
	if ackedAt.Valid {
		if t, err := time.Parse(time.RFC3339Nano, ackedAt.String); err == nil {
			s.LastAck = &t
		}
	}
	if s.Unsynced > 0 {
		var first string
		err := j.db.QueryRowContext(ctx, `SELECT time FROM entries WHERE seq = ?`, s.AckedSeq+1).Scan(&first)
		if err == nil {
			if t, err := time.Parse(time.RFC3339Nano, first); err == nil {
				s.OldestUnsynced = &t
			}
		}
	}
	for _, p := range []string{j.path, j.path + "-wal"} {
		if fi, err := os.Stat(p); err == nil {
			s.SizeBytes += fi.Size()
		}
	}
	return s, nil
}
