package records

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/gatepost/gatepost/hub/sqlstore"
	"github.com/gatepost/gatepost/protocol"
)

// searchIndexes serve the console's filters (Search) and the one map
// (OneMap). They are not part of the versioned schema: they hold nothing of
// their own, any build may create or drop them. Three are partial, since
// every index costs every insert: the fever index holds only entries
// with a fever reason (the fever column), the kind index all but checks (three
// entries in four) and the decision index all but allows (nine in ten).
// A filter for checks or allows walks the receipt index instead, where
// most entries match. No index reads the body's JSON. On PostgreSQL the
// same indexes are part of the base migration
// (migrations/postgres/00001_base.sql), the fever index's WHERE in that
// engine's form (dialect.go); a change here needs a migration there.
// PostgreSQL has one more, for a gate and a kind
// (00003_gate_kind_index.sql): its planner cannot be told which index
// to walk.
//
// There is no index led by the unit: a batch's entries belong to a few
// hundred units, so such an index took a page write per entry and cost
// a third of ingest. The unit rides at the end of the compound's and the
// gate's indexes instead, which grow at their ends; a unit is searched
// within a compound (unit numbers repeat across compounds), walking that
// compound's index without reading a row until the unit matches.
var searchIndexes = []struct{ name, on string }{
	// The unit after the key columns, so that the order stays searchOrder.
	{"entries_by_site_received_unit", "entries (site, received_at, kiosk, seq, unit)"},
	{"entries_by_kiosk_received_unit", "entries (kiosk, received_at, seq, unit)"},
	{"entries_by_kind_not_check", "entries (kind, received_at) WHERE kind != 'check'"},
	{"entries_by_decision_not_allow", "entries (decision, received_at) WHERE decision != 'allow'"},
	{"entries_fever_flag", "entries (received_at) WHERE fever = 1"},
	// The alert follower's: the entries that may raise an alert, in
	// receipt order (UrgentSince).
	{"entries_alerting", "entries (received_at, kiosk, seq) WHERE alerting = 1"},
	{"entries_by_site_time", "entries (site, time, kind)"},
}

// droppedIndexes are no longer used, and every insert paid for them: two
// served the month view before site_day, two were the full kind and
// decision indexes, one the fever index over instr(body) before the fever
// column (schema step 9).
var droppedIndexes = []string{"entries_fever", "entries_by_time", "entries_fever_by_time",
	"entries_by_kind_received", "entries_by_decision_received", "entries_by_unit",
	"entries_by_unit_column", "entries_by_site_received", "entries_by_kiosk_received"}

// ensureSearchIndexes creates the indexes Search and OneMap rely on that
// the file lacks, one statement each, logging each with how long it took:
// on a large file an older build wrote, each takes seconds (a million
// entries: docs/benchmarks.md), and the hub serves nothing
// until they exist, since Search names its index and SQLite refuses a
// query INDEXED BY an index that does not exist. Opening an up-to-date
// file costs one read of the schema.
func ensureSearchIndexes(ctx context.Context, db *sql.DB, log *slog.Logger) error {
	have := map[string]bool{}
	rows, err := db.QueryContext(ctx, `SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'entries'`)
	if err != nil {
		return fmt.Errorf("list indexes: %w", err)
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return fmt.Errorf("list indexes: %w", err)
		}
		have[name] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("list indexes: %w", err)
	}
	for _, name := range droppedIndexes {
		if have[name] {
			if _, err := db.ExecContext(ctx, `DROP INDEX IF EXISTS `+name); err != nil {
				return fmt.Errorf("drop index %s: %w", name, err)
			}
			log.Info("records: dropped an index no longer used", "index", name)
		}
	}
	var held bool // an empty table's indexes are instant and not news
	if err := db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM entries)`).Scan(&held); err != nil {
		return fmt.Errorf("list indexes: %w", err)
	}
	for _, ix := range searchIndexes {
		if have[ix.name] {
			continue
		}
		if held {
			log.Info("records: creating an index over the entries held; the hub starts when it is done", "index", ix.name)
		}
		start := time.Now() // the wall clock: how long the real work took, for the log
		if _, err := db.ExecContext(ctx, `CREATE INDEX IF NOT EXISTS `+ix.name+` ON `+ix.on); err != nil {
			return fmt.Errorf("create index %s: %w", ix.name, err)
		}
		if held {
			log.Info("records: created an index", "index", ix.name, "took", time.Since(start).Round(time.Millisecond))
		}
	}
	return nil
}

// Filter selects entries for the console's table. Zero fields select all.
// Times are the hub's clock at receipt: kiosk clocks drift and jump, and a
// backlog synced late is found where it arrived.
type Filter struct {
	Site     string    // compound
	Sites    []string  // only these compounds (a scoped operator's); nil for every one
	Kiosk    string    // gate
	From, To time.Time // received in [From, To)
	Kind     string
	Decision string
	Fever    bool   // only entries with a fever reason
	Unit     string // building-room, exact
}

// MaxPage bounds a page of search results.
const MaxPage = 500

// Page is one page of search results, newest first.
type Page struct {
	Entries []Stored
	More    bool // another page follows
}

// ErrUnitWithoutSite: a unit is searched within a compound or a gate.
var ErrUnitWithoutSite = errors.New("a unit is searched within a compound: choose the compound (or gate) too, since unit numbers repeat across compounds")

// Validate reports a filter Search cannot answer quickly: a unit with
// neither a compound nor a gate.
func (f Filter) Validate() error {
	if f.Unit != "" && f.Site == "" && f.Kiosk == "" {
		return ErrUnitWithoutSite
	}
	return nil
}

func (f Filter) where(d *dialect) (string, []any) {
	var conds []string
	var args []any
	add := func(cond string, arg any) {
		conds = append(conds, cond)
		args = append(args, arg)
	}
	if f.Site != "" {
		add("site = ?", f.Site)
	}
	if f.Sites != nil {
		conds = append(conds, "site IN (''"+strings.Repeat(", ?", len(f.Sites))+")")
		for _, s := range f.Sites {
			args = append(args, s)
		}
	}
	if f.Kiosk != "" {
		add("kiosk = ?", f.Kiosk)
	}
	if !f.From.IsZero() {
		add("received_at >= ?", f.From.UnixNano())
	}
	if !f.To.IsZero() {
		add("received_at < ?", f.To.UnixNano())
	}
	if f.Kind != "" {
		add("kind = ?", f.Kind)
	}
	rareKind := f.Kind != "" && f.Kind != "check"
	if rareKind {
		// Written as the partial index's WHERE, so that SQLite can use it:
		// it does not infer kind != 'check' from kind = 'visitor'.
		conds = append(conds, `kind != 'check'`)
	}
	if f.Decision != "" {
		add("decision = ?", f.Decision)
	}
	rareDecision := f.Decision != "" && f.Decision != "allow"
	if rareDecision {
		conds = append(conds, `decision != 'allow'`)
	}
	if f.Fever {
		// Written exactly as the partial index's WHERE, so SQLite uses it.
		conds = append(conds, `fever = 1`)
	}
	if f.Unit != "" {
		add("unit = ?", f.Unit)
	}
	// The index is named, not left to the planner: with no statistics it
	// can pick the kind index (a tenth of all rows) over the site's. The
	// order is the filters' usual selectivity, and each index ends, as
	// every index of a WITHOUT ROWID table does, in (kiosk, seq): walked
	// backwards it gives searchOrder with no sort.
	index := "entries_by_received"
	switch {
	case f.Kiosk != "":
		index = "entries_by_kiosk_received_unit"
	case f.Site != "":
		index = "entries_by_site_received_unit"
	case f.Fever:
		index = "entries_fever_flag"
	case rareDecision:
		index = "entries_by_decision_not_allow"
	case rareKind:
		index = "entries_by_kind_not_check"
	}
	indexed := ""
	if d.indexedBy {
		indexed = " INDEXED BY " + index
	}
	if len(conds) == 0 {
		return indexed, nil
	}
	return indexed + " WHERE " + strings.Join(conds, " AND "), args
}

// searchOrder is newest first. Every column descends, so that SQLite
// walks an index backwards rather than sorting.
const searchOrder = ` ORDER BY received_at DESC, kiosk DESC, seq DESC`

// Search returns page number page (0-based) of size entries matching f,
// the most recently received first.
func (s *SQLite) Search(ctx context.Context, f Filter, page, size int) (Page, error) {
	if size < 1 || size > MaxPage {
		return Page{}, fmt.Errorf("search entries: page size must be 1 to %d, got %d", MaxPage, size)
	}
	if page < 0 {
		return Page{}, fmt.Errorf("search entries: page must be 0 or more, got %d", page)
	}
	if err := f.Validate(); err != nil {
		return Page{}, fmt.Errorf("search entries: %w", err)
	}
	where, args := f.where(s.dialect)
	args = append(args, size+1, page*size)
	rows, err := s.read.Query(ctx, `SELECT `+storedColumns+` FROM entries`+where+
		searchOrder+` LIMIT ? OFFSET ?`, args...)
	if err != nil {
		return Page{}, fmt.Errorf("search entries: %w", err)
	}
	list, err := scanStored(rows)
	if err != nil {
		return Page{}, fmt.Errorf("search entries: %w", err)
	}
	p := Page{Entries: list}
	if len(list) > size {
		p.Entries, p.More = list[:size], true
	}
	return p, nil
}

// Each calls fn for every entry matching f, newest first, streaming: the
// CSV export of a filtered set never holds it all in memory.
func (s *SQLite) Each(ctx context.Context, f Filter, fn func(Stored) error) error {
	if err := f.Validate(); err != nil {
		return fmt.Errorf("export entries: %w", err)
	}
	where, args := f.where(s.dialect)
	rows, err := s.read.Query(ctx, `SELECT `+storedColumns+` FROM entries`+where+
		searchOrder, args...)
	if err != nil {
		return fmt.Errorf("export entries: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		one, err := scanOne(rows)
		if err != nil {
			return fmt.Errorf("export entries: %w", err)
		}
		if err := fn(one); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Sites lists every compound the hub holds entries from.
func (s *SQLite) Sites(ctx context.Context) ([]string, error) {
	rows, err := s.read.Query(ctx, `SELECT DISTINCT site FROM kiosks ORDER BY site`)
	if err != nil {
		return nil, fmt.Errorf("list sites: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var site string
		if err := rows.Scan(&site); err != nil {
			return nil, fmt.Errorf("list sites: %w", err)
		}
		out = append(out, site)
	}
	return out, rows.Err()
}

// Since returns up to limit entries received after the cursor (hub clock,
// unix ns; then kiosk and seq), oldest first: what the console's follower
// reads to raise alerts and feed the live view.
func (s *SQLite) Since(ctx context.Context, c Cursor, limit int) ([]Stored, Cursor, error) {
	q, args := sinceQuery(c, limit)
	rows, err := s.read.Query(ctx, q, args...)
	if err != nil {
		return nil, c, fmt.Errorf("entries since: %w", err)
	}
	defer rows.Close()
	var out []Stored
	for rows.Next() {
		var st Stored
		var body []byte
		if err := rows.Scan(&st.Site, &body, &c.Received, &c.Kiosk, &c.Seq); err != nil {
			return nil, c, fmt.Errorf("entries since: %w", err)
		}
		if err := unmarshalBody(body, &st); err != nil {
			return nil, c, fmt.Errorf("entries since: %w", err)
		}
		st.Received = time.Unix(0, c.Received).UTC()
		out = append(out, st)
	}
	return out, c, rows.Err()
}

// UrgentSince is Since for a follower with nobody watching the live
// view: it returns only the entries that may raise an alert (Urgent ones,
// and those whose reasons include one of AlertingReasons), up to limit,
// and a cursor past everything it looked at. It reads them alone, along
// an index of their own (the alerting column), so a backlog of ordinary
// entries costs it nothing.
func (s *SQLite) UrgentSince(ctx context.Context, c Cursor, limit int) ([]Stored, Cursor, error) {
	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true, Isolation: s.dialect.snapshot})
	if err != nil {
		return nil, c, fmt.Errorf("urgent entries since: %w", err)
	}
	defer tx.Rollback()
	q := sqlstore.Tx{Tx: tx, Engine: s.read.Engine}
	query, args := urgentQuery(c, limit)
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, c, fmt.Errorf("urgent entries since: %w", err)
	}
	defer rows.Close()
	var out []Stored
	n, next := 0, c
	for rows.Next() {
		var st Stored
		var body []byte
		if err := rows.Scan(&st.Site, &body, &next.Received, &next.Kiosk, &next.Seq); err != nil {
			return nil, c, fmt.Errorf("urgent entries since: %w", err)
		}
		n++
		if err := unmarshalBody(body, &st); err != nil {
			return nil, c, fmt.Errorf("urgent entries since: %w", err)
		}
		st.Received = time.Unix(0, next.Received).UTC()
		if alerting(st.Entry) { // exact: rows an older build flagged read the body's text
			out = append(out, st)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, c, fmt.Errorf("urgent entries since: %w", err)
	}
	if n == limit {
		return out, next, nil // more may match: carry on from the last one
	}
	// Everything after the cursor was looked at: move past the newest row
	// of the same snapshot, if it is after the cursor. The newest row is
	// read with no condition, one step back along the receipt index: on
	// PostgreSQL the cursor's condition let the planner, its statistics
	// behind a fast ingest, gather every row after the cursor and sort
	// them (165 ms a call in the fleet benchmark's outage).
	var newest Cursor
	err = q.QueryRow(ctx, `SELECT received_at, kiosk, seq FROM entries
		ORDER BY received_at DESC, kiosk DESC, seq DESC LIMIT 1`).
		Scan(&newest.Received, &newest.Kiosk, &newest.Seq)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, c, fmt.Errorf("urgent entries since: %w", err)
	}
	if err == nil && newest.after(next) {
		next = newest
	}
	return out, next, nil
}

// after says whether c comes after d in receipt order (afterCursor).
func (c Cursor) after(d Cursor) bool {
	if c.Received != d.Received {
		return c.Received > d.Received
	}
	if c.Kiosk != d.Kiosk {
		return c.Kiosk > d.Kiosk
	}
	return c.Seq > d.Seq
}

// afterCursor selects the entries after a cursor in receipt order; its
// arguments are Cursor.args. Its first condition is implied by the rest,
// and is what lets SQLite search the receipt index from the cursor: with
// the OR alone it scanned the whole index, every entry the hub holds, at
// each of the alert follower's polls (a quarter of a second a poll over
// 50,000 entries).
const afterCursor = `received_at >= ? AND (received_at > ? OR (received_at = ? AND (kiosk > ? OR (kiosk = ? AND seq > ?))))`

// sinceQuery is Since's query and its arguments.
func sinceQuery(c Cursor, limit int) (string, []any) {
	return `SELECT ` + storedColumns + `, kiosk, seq FROM entries
		WHERE ` + afterCursor + `
		ORDER BY received_at, kiosk, seq LIMIT ?`, append(c.args(), limit)
}

// urgentQuery is UrgentSince's query and its arguments.
func urgentQuery(c Cursor, limit int) (string, []any) {
	return `SELECT ` + storedColumns + `, kiosk, seq FROM entries
		WHERE alerting = 1 AND ` + afterCursor + `
		ORDER BY received_at, kiosk, seq LIMIT ?`, append(c.args(), limit)
}

// AlertingReasons are the reasons that make an entry that is not Urgent
// one the alert follower reads (UrgentSince): those whose alerts hub/alerts
// raises on ordinary entries, one per gate per hour (its perHour kinds; a
// test there holds the two lists equal). The entries' alerting column
// holds alerting() from the moment each is stored, so a change here needs
// a migration that sets it again over the entries held.
var AlertingReasons = []string{protocol.ReasonUnderstaffed, protocol.ReasonListStale}

// alerting reports whether e may raise an alert: what the alerting column
// holds, as 1 or 0 (alertingColumn).
func alerting(e protocol.Entry) bool {
	return e.Urgent() || slices.ContainsFunc(e.Reasons, func(r string) bool { return slices.Contains(AlertingReasons, r) })
}

// alertingColumn is alerting as the entries' alerting column holds it:
// 1 or 0, an integer in every engine.
func alertingColumn(e protocol.Entry) int {
	if alerting(e) {
		return 1
	}
	return 0
}

// args are afterCursor's arguments for c.
func (c Cursor) args() []any {
	return []any{c.Received, c.Received, c.Received, c.Kiosk, c.Kiosk, c.Seq}
}

// Cursor is a position in receipt order.
type Cursor struct {
	Received int64
	Kiosk    string
	Seq      int64
}

// scanOne reads one row of storedColumns.
func scanOne(rows *sql.Rows) (Stored, error) {
	var st Stored
	var body []byte
	var received int64
	if err := rows.Scan(&st.Site, &body, &received); err != nil {
		return Stored{}, err
	}
	if err := unmarshalBody(body, &st); err != nil {
		return Stored{}, err
	}
	st.Received = time.Unix(0, received).UTC()
	return st, nil
}

// unmarshalBody is scanStored's decoding: plain JSON, no validation.
func unmarshalBody(body []byte, st *Stored) error {
	if err := json.Unmarshal(body, &st.Entry); err != nil {
		return fmt.Errorf("stored body: %w", err)
	}
	return nil
}
