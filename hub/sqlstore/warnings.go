package sqlstore

import (
	"database/sql"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// warningsKey is where a PostgreSQL connection keeps the number of
// warnings it has received (pgconn.PgConn.CustomData).
const warningsKey = "gatepost.warnings"

// countWarnings is every store's notice handler on PostgreSQL: it counts
// the connection's warnings. PostgreSQL answers a commit whose wait for a
// synchronous standby was cancelled (pg_cancel_backend, a
// statement_timeout) with success and a WARNING: the transaction stays on
// the primary and may not be on the standby, which a failover would lose.
// A store that must not act on such a commit compares the count across
// it (Warnings). The severity is read unlocalized: servers may speak
// another language.
func countWarnings(c *pgconn.PgConn, n *pgconn.Notice) {
	if n.SeverityUnlocalized != "WARNING" {
		return
	}
	d := c.CustomData()
	k, _ := d[warningsKey].(uint64)
	d[warningsKey] = k + 1
}

// Warnings returns how many warnings the PostgreSQL connection under
// conn has received; 0 for any other connection.
func Warnings(conn *sql.Conn) (uint64, error) {
	var n uint64
	err := conn.Raw(func(dc any) error {
		if c, ok := dc.(*stdlib.Conn); ok {
			n, _ = c.Conn().PgConn().CustomData()[warningsKey].(uint64)
		}
		return nil
	})
	return n, err
}
