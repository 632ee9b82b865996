package operators

import (
	"context"
	"fmt"
	"time"
)

// AuditRecord is one line of the audit log.
type AuditRecord struct {
	At     time.Time
	User   string
	Action string // sign_in, sign_in_failed, sign_out, alert_ack, alert_close, reveal, export, user_add, ...
	Detail string
}

// Audit appends a line to the audit log.
func (s *Store) Audit(ctx context.Context, user, action, detail string) error {
	if _, err := s.db.Exec(ctx, `INSERT INTO audit (at, "user", action, detail) VALUES (?, ?, ?, ?)`,
		s.clock.Now().UnixNano(), user, action, detail); err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}

// AuditLog returns the latest limit lines, newest first.
func (s *Store) AuditLog(ctx context.Context, limit int) ([]AuditRecord, error) {
	rows, err := s.db.Query(ctx, `SELECT at, "user", action, detail FROM audit ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("read audit log: %w", err)
	}
	defer rows.Close()
	var out []AuditRecord
	for rows.Next() {
		var r AuditRecord
		var at int64
		if err := rows.Scan(&at, &r.User, &r.Action, &r.Detail); err != nil {
			return nil, fmt.Errorf("read audit log: %w", err)
		}
		r.At = time.Unix(0, at).UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}
