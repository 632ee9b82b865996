package sqlstore

import (
	"database/sql"
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// warningsKey is where a PostgreSQL connection keeps the number of
// warnings it has received (pgconn.PgConn.CustomData).
const warningsKey = "gatepost.warnings"

// CountWarnings is every store's notice handler on PostgreSQL
// (pgconn.Config.OnNotice): it counts the connection's warnings.
// PostgreSQL answers a commit whose wait for a synchronous standby was
// cancelled (pg_cancel_backend, a statement_timeout) with success and a
// WARNING: the transaction stays on the primary and may not be on the
// standby, which a failover would lose. A store that must not act on such
// a commit compares the count across it (Warnings, PgWarnings). The
// severity is read unlocalized: servers may speak another language.
func CountWarnings(c *pgconn.PgConn, n *pgconn.Notice) {
	if n.SeverityUnlocalized != "WARNING" {
		return
	}
	d := c.CustomData()
	k, _ := d[warningsKey].(uint64)
	d[warningsKey] = k + 1
}

// PgWarnings returns how many warnings c has received since it
// connected, counted by CountWarnings.
func PgWarnings(c *pgconn.PgConn) uint64 {
	n, _ := c.CustomData()[warningsKey].(uint64)
	return n
}

// Warnings returns how many warnings the PostgreSQL connection under
// conn has received; 0 for any other connection.
func Warnings(conn *sql.Conn) (uint64, error) {
	var n uint64
	err := conn.Raw(func(dc any) error {
		if c, ok := dc.(*stdlib.Conn); ok {
			n = PgWarnings(c.Conn().PgConn())
		}
		return nil
	})
	return n, err
}

// ErrUnreplicated is wrapped by the error of a change PostgreSQL
// committed with a warning (Unwarned).
var ErrUnreplicated = errors.New("PostgreSQL warned while committing (a wait for a synchronous standby cancelled?): " +
	"the change is kept on the primary but may not have reached a standby, which a failover would lose")

// Unwarned runs commit, a commit on conn (or a statement that commits by
// itself), and returns an error wrapping ErrUnreplicated when PostgreSQL
// warned meanwhile: the change may be kept, but must not be acted on as
// safe (an entry acked, a change reported done). On other connections it
// returns commit's error.
func Unwarned(conn *sql.Conn, commit func() error) error {
	before, err := Warnings(conn)
	if err != nil {
		return err
	}
	if err := commit(); err != nil {
		return err
	}
	after, err := Warnings(conn)
	if err != nil {
		return err
	}
	if after != before {
		return ErrUnreplicated
	}
	return nil
}
