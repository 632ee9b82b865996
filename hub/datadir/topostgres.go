package datadir

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/gatepost/gatepost/hub/operators"
	"github.com/gatepost/gatepost/hub/passes"
	"github.com/gatepost/gatepost/hub/records"
	"github.com/gatepost/gatepost/hub/registry"
	"github.com/gatepost/gatepost/hub/sqlstore"
)

// A hub that outgrows one machine moves its state from hub.db into
// PostgreSQL (`hub copy-to-postgres`): every store's tables, row for row,
// in one PostgreSQL transaction, so that the kiosks' register, the
// console's users and audit, the passes and every entry with its chain
// carry on as they were. The private keys stay files in the data folder.

// Copied is what CopyToPostgres copied: rows per table, "schema.table".
type Copied struct {
	Tables []CopiedTable
	Rows   int64
}

// CopiedTable is one table's rows copied.
type CopiedTable struct {
	Name string
	Rows int64
}

// schemas are the stores' PostgreSQL schemas, in the order they are
// copied (the registry first: nothing refers to it across stores).
var schemas = []string{registry.Schema, operators.Schema, passes.Schema, records.Schema}

// notCopied are hub.db's tables that have no PostgreSQL counterpart: the
// goose version tables (each side keeps its own) and the record of the
// old files merged into hub.db.
func notCopied(table string) bool {
	return table == "merged_files" || strings.HasPrefix(table, "goose_") || strings.HasPrefix(table, "sqlite_")
}

// holdsData are the tables that say a store holds data of its own: a
// database where any has a row is not copied into.
var holdsData = []string{"registry.enrolled_kiosks", "operators.users", "operators.audit", "passes.keys",
	"passes.passes", "records.entries", "records.kiosks"}

// ErrTargetNotEmpty says that the PostgreSQL database holds a hub's data
// already: copying into it would mix two hubs.
var ErrTargetNotEmpty = errors.New("the PostgreSQL database holds hub data already")

// CopyToPostgres copies every store's rows from the data folder's hub.db
// (its old files merged first) into the PostgreSQL database at pgURL,
// whose schemas it makes and migrates to this build's version. It
// refuses a database that holds hub data already, and copies nothing
// unless it can copy everything: one transaction, each table's rows
// counted on both sides before the commit. hub.db is only read, in one
// read transaction: a hub still writing to it would lose what it writes
// after, so stop it first.
func (d Dir) CopyToPostgres(ctx context.Context, pgURL string, progress io.Writer) (Copied, error) {
	if d.Database != "" {
		return Copied{}, errors.New("copy from the data folder's hub.db: leave --database out (the target is the argument)")
	}
	target := Dir{Path: d.Path, Database: pgURL, Clock: d.Clock}
	if err := target.CheckDatabase(); err != nil {
		return Copied{}, err
	}
	if _, err := os.Stat(d.RecordsPath()); err != nil {
		return Copied{}, fmt.Errorf("no hub data in %s to copy: %w", d.Path, err)
	}
	// Every store opened once on each side: old files merged into hub.db,
	// every schema made and migrated in PostgreSQL.
	for _, dir := range []Dir{d, target} {
		if err := dir.openEach(); err != nil {
			return Copied{}, err
		}
	}

	src, err := sql.Open("sqlite", sqlstore.ReadOnlyURL(d.RecordsPath()))
	if err != nil {
		return Copied{}, err
	}
	defer src.Close()
	srcTx, err := src.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return Copied{}, fmt.Errorf("read %s: %w", d.RecordsPath(), err)
	}
	defer srcTx.Rollback()

	cfg, err := pgx.ParseConfig(pgURL)
	if err != nil {
		return Copied{}, fmt.Errorf("the PostgreSQL URL: %w", err)
	}
	cfg.OnNotice = sqlstore.CountWarnings
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return Copied{}, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	tx, err := conn.Begin(ctx)
	if err != nil {
		return Copied{}, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))

	where, err := pgTables(ctx, tx)
	if err != nil {
		return Copied{}, err
	}
	for _, t := range holdsData {
		var n int64
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM `+t).Scan(&n); err != nil {
			return Copied{}, fmt.Errorf("count %s: %w", t, err)
		}
		if n > 0 {
			return Copied{}, fmt.Errorf("%w (%s has %d rows): copy into a new database (createdb), "+
				"or drop the schemas %s of this one if its data is not needed", ErrTargetNotEmpty, t, n, strings.Join(schemas, ", "))
		}
	}
	tables, err := tableNames(ctx, srcTx, "main")
	if err != nil {
		return Copied{}, fmt.Errorf("read %s: %w", d.RecordsPath(), err)
	}
	// Tables in the schemas' order (registry first, records last), and a
	// table after those its foreign keys refer to.
	slices.SortStableFunc(tables, func(a, b string) int {
		return slices.Index(schemas, where[a]) - slices.Index(schemas, where[b])
	})
	if tables, err = referredFirst(ctx, tx, tables); err != nil {
		return Copied{}, err
	}
	var out Copied
	for _, t := range tables {
		if notCopied(t) {
			continue
		}
		schema, ok := where[t]
		if !ok {
			return Copied{}, fmt.Errorf("hub.db has a table %s that no store has in PostgreSQL: is this hub newer than the one that wrote hub.db?", t)
		}
		n, err := copyTable(ctx, srcTx, tx, schema, t)
		if err != nil {
			return Copied{}, fmt.Errorf("copy %s: %w (nothing was copied)", t, err)
		}
		out.Tables = append(out.Tables, CopiedTable{schema + "." + t, n})
		out.Rows += n
		if progress != nil {
			fmt.Fprintf(progress, "copied %s.%s: %d rows\n", schema, t, n)
		}
	}
	warned := sqlstore.PgWarnings(conn.PgConn())
	if err := tx.Commit(ctx); err != nil {
		// A commit cut off while it waited for a synchronous standby
		// is kept by the primary: the error alone does not say.
		return Copied{}, fmt.Errorf("commit the copy: %w: PostgreSQL may have kept it or not; "+
			"run the copy again, which refuses a database holding it and says so", err)
	}
	if sqlstore.PgWarnings(conn.PgConn()) != warned {
		return out, fmt.Errorf("commit the copy: %w: the copy is in the primary; keep hub.db, and before starting hubs "+
			"on PostgreSQL check that the standby has caught up (pg_stat_replication on the primary)", sqlstore.ErrUnreplicated)
	}
	return out, nil
}

// openEach opens and closes every store of d: on SQLite it merges old
// files into hub.db; on PostgreSQL it makes the schemas and migrates them.
func (d Dir) openEach() error {
	closers := []func() (io.Closer, error){
		func() (io.Closer, error) { return d.OpenRegistry() },
		func() (io.Closer, error) { return d.OpenOperators() },
		func() (io.Closer, error) { return d.OpenPasses() },
		func() (io.Closer, error) { return d.OpenRecords() },
	}
	for _, open := range closers {
		s, err := open()
		if err != nil {
			return err
		}
		if err := s.Close(); err != nil {
			return err
		}
	}
	return nil
}

// pgTables maps each table of the stores' schemas to its schema, the
// goose version tables left out; a name in two schemas is refused.
func pgTables(ctx context.Context, tx pgx.Tx) (map[string]string, error) {
	rows, err := tx.Query(ctx, `SELECT schemaname, tablename FROM pg_tables WHERE schemaname = ANY($1)`, schemas)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var schema, table string
		if err := rows.Scan(&schema, &table); err != nil {
			return nil, err
		}
		if notCopied(table) {
			continue
		}
		if other, ok := out[table]; ok {
			return nil, fmt.Errorf("the table %s is in both schemas %s and %s", table, other, schema)
		}
		out[table] = schema
	}
	return out, rows.Err()
}

// referredFirst orders tables so that each comes after the tables its
// foreign keys refer to, keeping the given order otherwise.
func referredFirst(ctx context.Context, tx pgx.Tx, tables []string) ([]string, error) {
	rows, err := tx.Query(ctx, `SELECT c.conrelid::regclass::text, c.confrelid::regclass::text FROM pg_constraint c
		JOIN pg_namespace n ON n.oid = c.connamespace WHERE c.contype = 'f' AND n.nspname = ANY($1)`, schemas)
	if err != nil {
		return nil, fmt.Errorf("read the foreign keys: %w", err)
	}
	refers := map[string][]string{} // table: the tables it refers to
	for rows.Next() {
		var from, to string
		if err := rows.Scan(&from, &to); err != nil {
			rows.Close()
			return nil, err
		}
		from, to = unqualified(from), unqualified(to)
		if from != to {
			refers[from] = append(refers[from], to)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var out []string
	done, visiting := map[string]bool{}, map[string]bool{}
	var visit func(t string) error
	visit = func(t string) error {
		if done[t] {
			return nil
		}
		if visiting[t] {
			return fmt.Errorf("the foreign keys of %s refer back to it", t)
		}
		visiting[t] = true
		for _, p := range refers[t] {
			if slices.Contains(tables, p) {
				if err := visit(p); err != nil {
					return err
				}
			}
		}
		done[t] = true
		out = append(out, t)
		return nil
	}
	for _, t := range tables {
		if err := visit(t); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// unqualified is a regclass's table name without its schema.
func unqualified(name string) string {
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		name = name[i+1:]
	}
	return strings.Trim(name, `"`)
}

// pgColumn is a column of a PostgreSQL table.
type pgColumn struct {
	name, dataType string
	identity       bool
}

// copyTable copies every row of the SQLite table into schema.table,
// after emptying it of the rows its migrations seeded, and checks the
// count; identity columns carry on after the highest copied.
func copyTable(ctx context.Context, src *sql.Tx, tx pgx.Tx, schema, table string) (int64, error) {
	cols, err := pgColumns(ctx, tx, schema, table)
	if err != nil {
		return 0, err
	}
	have, err := columns(ctx, src, "main", table)
	if err != nil {
		return 0, err
	}
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.name
	}
	if !sameSet(names, have) {
		return 0, fmt.Errorf("its columns are %s in hub.db and %s in PostgreSQL", strings.Join(have, ", "), strings.Join(names, ", "))
	}
	ident := pgx.Identifier{schema, table}
	if _, err := tx.Exec(ctx, `DELETE FROM `+ident.Sanitize()); err != nil { // seeded rows, such as the register's generation
		return 0, err
	}
	quoted := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = quote(c.name)
	}
	rows, err := src.QueryContext(ctx, `SELECT `+strings.Join(quoted, ", ")+` FROM main.`+quote(table))
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n, err := tx.CopyFrom(ctx, ident, names, &sqliteRows{rows: rows, cols: cols})
	if err != nil {
		return 0, err
	}
	var want, got int64
	if err := src.QueryRowContext(ctx, `SELECT count(*) FROM main.`+quote(table)).Scan(&want); err != nil {
		return 0, err
	}
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM `+ident.Sanitize()).Scan(&got); err != nil {
		return 0, err
	}
	if n != want || got != want {
		return 0, fmt.Errorf("%d rows in hub.db, %d copied, %d in PostgreSQL", want, n, got)
	}
	for _, c := range cols {
		if !c.identity {
			continue
		}
		// The next id after the highest copied: new alerts and audit lines
		// go on in order.
		if _, err := tx.Exec(ctx, `SELECT setval(pg_get_serial_sequence($1, $2), COALESCE((SELECT max(`+quote(c.name)+`) FROM `+
			ident.Sanitize()+`), 0) + 1, false)`, ident.Sanitize(), c.name); err != nil {
			return 0, fmt.Errorf("carry the ids of %s on: %w", c.name, err)
		}
	}
	return n, nil
}

// pgColumns are schema.table's columns, in order.
func pgColumns(ctx context.Context, tx pgx.Tx, schema, table string) ([]pgColumn, error) {
	rows, err := tx.Query(ctx, `SELECT column_name, data_type, is_identity = 'YES' FROM information_schema.columns
		WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`, schema, table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []pgColumn
	for rows.Next() {
		var c pgColumn
		if err := rows.Scan(&c.name, &c.dataType, &c.identity); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// sqliteRows feeds a SQLite query's rows to COPY, each value as the
// PostgreSQL column takes it: SQLite keeps text and blobs apart only
// loosely, PostgreSQL's text and bytea strictly.
type sqliteRows struct {
	rows *sql.Rows
	cols []pgColumn
}

func (r *sqliteRows) Next() bool { return r.rows.Next() }

func (r *sqliteRows) Values() ([]any, error) {
	vals := make([]any, len(r.cols))
	ptrs := make([]any, len(r.cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := r.rows.Scan(ptrs...); err != nil {
		return nil, err
	}
	for i, c := range r.cols {
		switch v := vals[i].(type) {
		case string:
			if c.dataType == "bytea" {
				vals[i] = []byte(v)
			}
		case []byte:
			if c.dataType == "text" {
				vals[i] = string(v)
			}
		}
	}
	return vals, nil
}

func (r *sqliteRows) Err() error { return r.rows.Err() }
