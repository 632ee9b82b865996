package sqlstore

import "testing"

func TestBind(t *testing.T) {
	for _, tc := range []struct {
		e       *Engine
		in, out string
	}{
		{SQLite, "a = ? AND b = ?", "a = ? AND b = ?"},
		{Postgres, "a = ? AND b = ?", "a = $1 AND b = $2"},
		{Postgres, "SELECT 1", "SELECT 1"},
	} {
		if got := tc.e.Bind(tc.in); got != tc.out {
			t.Errorf("%s.Bind(%q) = %q, want %q", tc.e.Name, tc.in, got, tc.out)
		}
	}
}

func TestIsPostgres(t *testing.T) {
	for dsn, want := range map[string]bool{
		"postgres://u@h/db": true, "postgresql://h/db": true,
		"/var/lib/gatepost/hub/kiosks.db": false, "postgres.db": false, "": false,
	} {
		if got := IsPostgres(dsn); got != want {
			t.Errorf("IsPostgres(%q) = %v, want %v", dsn, got, want)
		}
	}
}
