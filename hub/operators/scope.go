package operators

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// RoleBuildingLead is a building lead's role (楼组包干员): limited to some
// buildings of one compound, it sees and updates the home observation of
// those buildings' passes and sees the day's map of its buildings,
// nothing else.
const RoleBuildingLead = "building-lead"

// ErrBadScope means a scope or a role does not fit the account.
var ErrBadScope = errors.New("bad scope")

var (
	sitePattern     = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	buildingPattern = regexp.MustCompile(`^[A-Za-z0-9]{1,16}$`)
)

// AllSites reports whether u sees every compound: an admin, or an
// operator with no scope.
func (u User) AllSites() bool { return u.Admin || (!u.Lead && len(u.Sites) == 0) }

// SeesSite reports whether u may see compound site.
func (u User) SeesSite(site string) bool { return u.AllSites() || slices.Contains(u.Sites, site) }

// SeesBuilding reports whether a building lead may see building b of
// site (anyone else: whether they see site).
func (u User) SeesBuilding(site, b string) bool {
	if !u.Lead {
		return u.SeesSite(site)
	}
	return slices.Contains(u.Sites, site) && slices.Contains(u.Buildings, b)
}

// userColumns are what every read of an account selects, from users u.
const userColumns = `u.name, u.admin, u.disabled, u.role, u.sites, u.buildings`

// userRow scans userColumns.
type userRow struct {
	u                      User
	role, sites, buildings string
}

func (r *userRow) dest() []any {
	return []any{&r.u.Name, &r.u.Admin, &r.u.Disabled, &r.role, &r.sites, &r.buildings}
}

func (r *userRow) user() User {
	u := r.u
	u.Lead = r.role == RoleBuildingLead && !u.Admin
	u.Sites, u.Buildings = splitList(r.sites), splitList(r.buildings)
	return u
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// CleanList trims, drops empty items and sorts a comma-separated list, as
// `hub users scope --sites a,b` and the console's form give it.
func CleanList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" && !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	slices.Sort(out)
	return out
}

func checkList(what string, list []string, pattern *regexp.Regexp) error {
	for _, x := range list {
		if !pattern.MatchString(x) {
			return fmt.Errorf("%w: %s %q must be letters, digits, '-' or '_' (up to 64; buildings up to 16 letters or digits)", ErrBadScope, what, x)
		}
	}
	return nil
}

// SetScope limits an operator to the compounds sites; nil or empty lets
// them see every compound again. Admins see every compound and building
// leads have their own scope (SetLead), so both are refused. The user's
// sessions end: the new scope holds from their next sign-in.
func (s *Store) SetScope(ctx context.Context, name string, sites []string) error {
	if err := checkList("compound", sites, sitePattern); err != nil {
		return err
	}
	u, err := s.User(ctx, name)
	if err != nil {
		return err
	}
	if u.Admin {
		return fmt.Errorf("%w: %s is an admin, and admins see every compound; make them an operator first", ErrBadScope, name)
	}
	if u.Lead {
		return fmt.Errorf("%w: %s is a building lead; set their compound and buildings with the building-lead role", ErrBadScope, name)
	}
	return s.updateUser(ctx, name, `UPDATE users SET sites = ? WHERE name = ?`, strings.Join(sites, ","), name)
}

// AddLead creates a building lead for buildings of compound site.
func (s *Store) AddLead(ctx context.Context, name, password, site string, buildings []string) error {
	if err := checkLead(site, buildings); err != nil {
		return err
	}
	if err := s.AddUser(ctx, name, password, false); err != nil {
		return err
	}
	return s.SetLead(ctx, name, site, buildings)
}

// SetLead makes an account a building lead of buildings of site (an
// admin stops being one); its sessions end.
func (s *Store) SetLead(ctx context.Context, name, site string, buildings []string) error {
	if err := checkLead(site, buildings); err != nil {
		return err
	}
	return s.updateUser(ctx, name, `UPDATE users SET admin = 0, role = ?, sites = ?, buildings = ? WHERE name = ?`,
		RoleBuildingLead, site, strings.Join(buildings, ","), name)
}

func checkLead(site string, buildings []string) error {
	if !sitePattern.MatchString(site) {
		return fmt.Errorf("%w: a building lead needs one compound (--site), letters, digits, '-' or '_', got %q", ErrBadScope, site)
	}
	if len(buildings) == 0 {
		return fmt.Errorf("%w: a building lead needs its buildings (--buildings 3,5)", ErrBadScope)
	}
	return checkList("building", buildings, buildingPattern)
}
