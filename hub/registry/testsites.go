package registry

import (
	"context"
	"fmt"

	"github.com/gatepost/gatepost/hub/sqlstore"
	"github.com/gatepost/gatepost/protocol"
)

// A test site is a compound marked as one where kiosks may run simulated
// devices (a demo, a training room). The hub takes entries from simulated
// devices only from test sites: anywhere else they are invented entries in
// a real compound's log.

// SetTestSite marks site as a test site, or unmarks it.
func (s *Store) SetTestSite(ctx context.Context, site string, test bool) error {
	if !protocol.ValidName(site) {
		return fmt.Errorf("site %q: use letters, digits, '-' and '_'", site)
	}
	return s.db.Tx(ctx, func(tx sqlstore.Tx) error {
		var err error
		if test {
			_, err = tx.Exec(ctx, `INSERT INTO test_sites (site) VALUES (?) ON CONFLICT (site) DO NOTHING`, site)
		} else {
			_, err = tx.Exec(ctx, `DELETE FROM test_sites WHERE site = ?`, site)
		}
		if err != nil {
			return err
		}
		return bump(ctx, tx)
	})
}

// TestSites lists the test sites.
func (s *Store) TestSites(ctx context.Context) ([]string, error) {
	rows, err := s.db.Query(ctx, `SELECT site FROM test_sites ORDER BY site`)
	if err != nil {
		return nil, fmt.Errorf("test sites: %w", err)
	}
	defer rows.Close()
	var sites []string
	for rows.Next() {
		var site string
		if err := rows.Scan(&site); err != nil {
			return nil, err
		}
		sites = append(sites, site)
	}
	return sites, rows.Err()
}

// IsTestSite reports whether site is a test site. It fails closed: a
// register it cannot read is no test site.
func (s *Store) IsTestSite(ctx context.Context, site string) bool {
	var n int
	err := s.db.QueryRow(ctx, `SELECT count(*) FROM test_sites WHERE site = ?`, site).Scan(&n)
	return err == nil && n > 0
}
