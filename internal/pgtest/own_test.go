package pgtest

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// A cluster of the test's own survives a restart with what it committed,
// and the restart breaks the connections open at the time, as a crash
// does.
func TestOwnClusterRestarts(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a PostgreSQL server: a few seconds")
	}
	c := Own(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.URL)
	if err != nil {
		t.Fatalf("connect to %s: %v", c.URL, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE TABLE kept (n int); INSERT INTO kept VALUES (42)"); err != nil {
		t.Fatal(err)
	}
	c.Restart(t)
	if err := conn.Ping(ctx); err == nil {
		t.Error("a connection opened before the restart still answers; want it broken")
	}
	again, err := pgx.Connect(ctx, c.URL)
	if err != nil {
		t.Fatalf("connect after the restart: %v", err)
	}
	defer again.Close(ctx)
	var n int
	if err := again.QueryRow(ctx, "SELECT n FROM kept").Scan(&n); err != nil || n != 42 {
		t.Errorf("after the restart: n = %d, %v; want 42", n, err)
	}
}
