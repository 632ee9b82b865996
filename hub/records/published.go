package records

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/gatepost/gatepost/protocol"
)

// Published is the newest downlink of one kind the hub has issued for a
// site (Kiosk "") or for one kiosk: what its kiosks should be running.
type Published struct {
	Site    string
	Kiosk   string // "" for the whole site
	Version uint64 // the downlink's version, as kiosks report it in their presence
	// Issued is the payload's own "issued" time when it has one (a status
	// list: kiosks judge its freshness by it), else the downlink's.
	Issued time.Time
}

// Published lists, per site and scope, the newest downlink of kind the
// hub has issued.
func (s *SQLite) Published(ctx context.Context, kind protocol.DownlinkKind) ([]Published, error) {
	rows, err := s.read.Query(ctx, `SELECT site, kiosk, version, `+s.dialect.issued+`
		FROM downlinks WHERE kind = ? ORDER BY site, kiosk`, string(kind))
	if err != nil {
		return nil, fmt.Errorf("published %s: %w", kind, err)
	}
	defer rows.Close()
	var out []Published
	for rows.Next() {
		var p Published
		var issued sql.NullString
		if err := rows.Scan(&p.Site, &p.Kiosk, &p.Version, &issued); err != nil {
			return nil, fmt.Errorf("published %s: %w", kind, err)
		}
		if p.Issued, err = time.Parse(time.RFC3339Nano, issued.String); err != nil {
			return nil, fmt.Errorf("published %s for %s: stored issue time %q: %w", kind, p.Site, issued.String, err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}
