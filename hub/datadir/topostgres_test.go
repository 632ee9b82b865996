package datadir

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatepost/gatepost/hub/passes"
	"github.com/gatepost/gatepost/hub/records"
	"github.com/gatepost/gatepost/hub/sqlstore"
	"github.com/gatepost/gatepost/internal/pgtest"
	"github.com/gatepost/gatepost/protocol"
	"github.com/gatepost/gatepost/protocol/protocoltest"
)

// rowsOf is every row of table as sorted "column=value" fields, sorted:
// the same text for the same contents on either engine (bytes shown as
// text, as SQLite may keep either, and numbers whatever their width).
func rowsOf(query func(string) ([]string, [][]any)) func(table string) []string {
	return func(table string) []string {
		cols, rows := query(table)
		out := []string{}
		for _, vals := range rows {
			fields := make([]string, len(cols))
			for i, c := range cols {
				v := vals[i]
				switch n := v.(type) {
				case []byte:
					v = fmt.Sprintf("%x", n)
				case string:
					v = fmt.Sprintf("%x", n)
				case int32:
					v = int64(n)
				case int16:
					v = int64(n)
				}
				fields[i] = fmt.Sprintf("%s=%v", c, v)
			}
			sort.Strings(fields)
			out = append(out, strings.Join(fields, " "))
		}
		sort.Strings(out)
		return out
	}
}

// A hub on SQLite with data in every store moves into PostgreSQL: every
// table's rows arrive as they were, the chain verifies there, new audit
// lines and alerts carry on after the copied ids, and a second copy into
// the same database is refused.
func TestCopyToPostgres(t *testing.T) {
	ctx := t.Context()
	db := pgtest.Database(t)
	d := Dir{Path: t.TempDir()}
	currentFiles(t, d.Path) // console.db, passes.db, kiosks.db of the previous build: merged first
	r, err := d.OpenRecords()
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Seed(ctx, records.SeedPlan{Sites: 3, Kiosks: 2, Entries: 3000, Start: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
		Span: 7 * 24 * time.Hour, Seed: 5}); err != nil {
		t.Fatal(err)
	}
	r.Close()
	o, err := d.OpenOperators()
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Audit(ctx, "admin", "user_add", "guard-3"); err != nil {
		t.Fatal(err)
	}
	o.Close()
	g, err := d.OpenRegistry()
	if err != nil {
		t.Fatal(err)
	}
	priv := ed25519.NewKeyFromSeed(make([]byte, 32))
	if _, err := g.Add(ctx, "huamu-1", "gate-3", priv.Public().(ed25519.PublicKey)); err != nil {
		t.Fatal(err)
	}
	g.Close()
	// gate-3's entries as a kiosk sends them: chained, in a signed batch.
	prev := protocol.Genesis
	var es []protocol.Entry
	for seq := uint64(1); seq <= 20; seq++ {
		e := protocoltest.Entry(protocoltest.Kiosk("gate-3"), protocoltest.Seq(seq))
		e.Prev = protocol.HashText(prev)
		prev = protocol.EntryHash(prev, e)
		es = append(es, e)
	}
	b := protocol.Batch{Kiosk: "gate-3", Site: "huamu-1", Sent: protocoltest.T0.Add(time.Hour), Entries: es}
	if err := protocol.SignBatch(priv, &b); err != nil {
		t.Fatal(err)
	}
	if r, err = d.OpenRecords(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.SaveBatch(ctx, b, protocoltest.T0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	r.Close()

	var progress strings.Builder
	copied, err := d.CopyToPostgres(ctx, db, &progress)
	if err != nil {
		t.Fatal(err)
	}
	if copied.Rows < 3000 || !strings.Contains(progress.String(), "copied records.entries: 3020 rows") {
		t.Errorf("copied %d rows:\n%s", copied.Rows, progress.String())
	}

	// Row for row, every table.
	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	where, err := pgTables(ctx, tx)
	tx.Rollback(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pgRows := rowsOf(func(table string) ([]string, [][]any) {
		rows, err := conn.Query(ctx, `SELECT * FROM `+pgx.Identifier{where[table], table}.Sanitize())
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var cols []string
		for _, f := range rows.FieldDescriptions() {
			cols = append(cols, f.Name)
		}
		var out [][]any
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, vals)
		}
		return cols, out
	})
	lite, err := sql.Open("sqlite", sqlstore.ReadOnlyURL(d.RecordsPath()))
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	liteRows := rowsOf(func(table string) ([]string, [][]any) {
		rows, err := lite.Query(`SELECT * FROM ` + quote(table))
		if err != nil {
			t.Fatal(err)
		}
		return scanAll(t, rows)
	})
	names, err := tableNames(ctx, lite, "main")
	if err != nil {
		t.Fatal(err)
	}
	compared := 0
	for _, table := range names {
		if notCopied(table) {
			continue
		}
		compared++
		if got, want := pgRows(table), liteRows(table); !slices.Equal(got, want) {
			t.Errorf("%s: PostgreSQL holds %d rows, hub.db %d, or they differ:\nPostgreSQL %.300q\nhub.db     %.300q",
				table, len(got), len(want), got, want)
		}
	}
	if compared < 15 || copied.Tables == nil || len(copied.Tables) != compared {
		t.Errorf("compared %d tables, copied %d: want every store's", compared, len(copied.Tables))
	}

	// The stores on PostgreSQL carry on from there.
	pg := Dir{Path: d.Path, Database: db}
	rec, err := pg.OpenExistingRecords()
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	v, err := rec.Verify(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if v.Entries != 3020 || v.Unchained != 3000 || len(v.Findings) != 0 {
		t.Errorf("verify on PostgreSQL: %d entries, %d unchained, findings %v; want 3020, the 3000 seeded, none",
			v.Entries, v.Unchained, v.Findings)
	}
	sv, err := rec.VerifySigs(ctx, "", func(_ context.Context, k string) (ed25519.PublicKey, error) {
		if k == "gate-3" {
			return priv.Public().(ed25519.PublicKey), nil
		}
		return nil, nil
	})
	if err != nil || sv.Checked != 1 || len(sv.Findings) != 0 {
		t.Errorf("the kept signature on PostgreSQL: %+v, %v; want 1 checked, no findings", sv, err)
	}
	ops, err := pg.OpenOperators()
	if err != nil {
		t.Fatal(err)
	}
	defer ops.Close()
	users, err := ops.Users(ctx)
	if err != nil || len(users) != 3 {
		t.Errorf("users on PostgreSQL: %d, %v; want 3", len(users), err)
	}
	if err := ops.AddUser(ctx, "guard-4", "a long enough password 4", false); err != nil {
		t.Errorf("a new user (and its audit line) after the copy: %v", err)
	}
	if err := ops.Audit(ctx, "admin", "test", "after the copy"); err != nil {
		t.Errorf("an audit line after the copied ones: %v", err)
	}
	ps, err := pg.OpenPasses()
	if err != nil {
		t.Fatal(err)
	}
	defer ps.Close()
	list, err := ps.List(ctx, passes.Filter{})
	if err != nil || len(list) != 2 {
		t.Errorf("passes on PostgreSQL: %d, %v; want 2", len(list), err)
	}
	if err := ps.CanSign(ctx); err != nil {
		t.Errorf("the copied key signs from the data folder's keys/: %v", err)
	}
	reg, err := pg.OpenRegistry()
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	if err := reg.Admit(ctx, "huamu-1", "gate-3"); err != nil {
		t.Errorf("the copied register admits gate-3: %v", err)
	}

	if _, err := d.CopyToPostgres(ctx, db, nil); !errors.Is(err, ErrTargetNotEmpty) {
		t.Errorf("a second copy into the same database: %v, want ErrTargetNotEmpty", err)
	}
}

// scanAll reads every row of rows as its values, and closes it.
func scanAll(t *testing.T, rows *sql.Rows) ([]string, [][]any) {
	t.Helper()
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out [][]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		out = append(out, vals)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return cols, out
}

// A copy whose commit PostgreSQL kept on the primary without the
// synchronous standby confirming it (its wait cancelled, as a
// statement_timeout would) is not reported done: an installer told "copied"
// would retire hub.db, and a failover would lose the copy.
func TestCopyNotReplicatedIsNotReportedDone(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	primary := pgtest.Own(t)
	standby := primary.Standby(t)
	d := Dir{Path: t.TempDir()}
	r, err := d.OpenRecords()
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Seed(ctx, records.SeedPlan{Sites: 1, Kiosks: 2, Entries: 50, Start: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
		Span: 24 * time.Hour, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	r.Close()
	// The schemas made while the standby streams; then it stops, and
	// every commit that writes waits for it.
	if err := (Dir{Path: d.Path, Database: primary.URL}).openEach(); err != nil {
		t.Fatal(err)
	}
	standby.Crash(t)

	before := primary.SyncRepWaiters(t)
	done := make(chan error, 1)
	go func() {
		_, err := d.CopyToPostgres(ctx, primary.URL, nil)
		done <- err
	}()
	primary.CancelBackend(t, primary.WaitForSyncRep(t, before, done))
	select {
	case err := <-done:
		if !errors.Is(err, sqlstore.ErrUnreplicated) {
			t.Fatalf("CopyToPostgres with the standby's confirmation cancelled = %v, want an error wrapping ErrUnreplicated", err)
		}
		if !strings.Contains(err.Error(), "keep hub.db") {
			t.Errorf("the error does not tell what to do: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no answer within 30s of the cancel")
	}
	// The primary kept it: a second copy is refused as a database that
	// holds the data already.
	conn, err := pgx.Connect(ctx, primary.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int64
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM records.entries`).Scan(&n); err != nil || n != 50 {
		t.Errorf("entries on the primary = %d, %v; want the 50 copied", n, err)
	}
}
