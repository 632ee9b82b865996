package records

import "context"

// FleetKiosk is a kiosk's state with the sequence ranges the hub lacks
// from it: what the console's fleet page and `hub kiosks` show.
type FleetKiosk struct {
	Kiosk
	Gaps []Range `json:"gaps"`
}

// Fleet returns every kiosk with its missing ranges.
func (s *SQLite) Fleet(ctx context.Context) ([]FleetKiosk, error) {
	ks, err := s.Kiosks(ctx)
	if err != nil {
		return nil, err
	}
	fleet := make([]FleetKiosk, len(ks))
	for i, k := range ks {
		gaps, err := s.Gaps(ctx, k.Kiosk)
		if err != nil {
			return nil, err
		}
		fleet[i] = FleetKiosk{Kiosk: k, Gaps: gaps}
	}
	return fleet, nil
}
