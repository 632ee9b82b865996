package protocol

import (
	"encoding/json"
	"strconv"
	"time"
)

// MaxStatusEntries bounds a status list. A compound of 4,200 residents and
// 900 tenants has a few hundred entries at worst; a subdistrict's list
// stays far below this.
const MaxStatusEntries = 100_000

// MaxStatusReason bounds the reason an operator gives, in bytes.
const MaxStatusReason = 200

// PassStatus is what the status list says about a pass.
type PassStatus string

// The statuses a pass can have on the list. A pass not on the list is in
// good standing.
const (
	StatusRevoked         PassStatus = "revoked"          // lost, moved out, forged copy seen: deny
	StatusHomeObservation PassStatus = "home_observation" // must stay home until Until: deny exit, alert
)

// StatusList is the hub's list of passes not in good standing for one
// site, as the downlink carries it (kind "status_list"). Version grows with
// every change; a kiosk keeps the highest it has seen.
type StatusList struct {
	Site    string        `json:"site"`
	Version uint64        `json:"version"`
	Issued  time.Time     `json:"issued"` // hub clock when made: kiosks judge freshness by it
	Entries []StatusEntry `json:"entries"`
}

// StatusEntry is one pass's status. Until, when set, ends it (home
// observation ends; a revocation normally has none).
type StatusEntry struct {
	Pass   string     `json:"pass_id"`
	Status PassStatus `json:"status"`
	Until  *time.Time `json:"until,omitempty"`
	Reason string     `json:"reason,omitempty"` // short, shown to the guard: no health details
}

// Active reports whether e applies at now.
func (e *StatusEntry) Active(now time.Time) bool {
	return e.Until == nil || now.Before(*e.Until)
}

// Find returns the entry for pass id, or nil. Entries are few enough for a
// scan; a kiosk checks one pass per person.
func (l *StatusList) Find(id string) *StatusEntry {
	for i := range l.Entries {
		if l.Entries[i].Pass == id {
			return &l.Entries[i]
		}
	}
	return nil
}

// Validate checks l.
func (l *StatusList) Validate() error {
	switch {
	case !ValidName(l.Site):
		return bad("site", "must be 1-64 letters, digits, '-' or '_', got %q", l.Site)
	case l.Version == 0:
		return bad("version", "must be 1 or more")
	case l.Issued.IsZero():
		return missing("issued")
	case len(l.Entries) > MaxStatusEntries:
		return bad("entries", "more than %d entries", MaxStatusEntries)
	}
	seen := make(map[string]bool, len(l.Entries))
	for i, e := range l.Entries {
		field := func(f string) string { return "entries[" + itoa(i) + "]." + f }
		switch {
		case !passIDPattern.MatchString(e.Pass):
			return bad(field("pass_id"), "must be 1-%d letters, digits, '-' or '_', got %q", MaxPassID, e.Pass)
		case seen[e.Pass]:
			return bad(field("pass_id"), "%q appears twice", e.Pass)
		case e.Status != StatusRevoked && e.Status != StatusHomeObservation:
			return bad(field("status"), "must be revoked or home_observation, got %q", e.Status)
		case e.Status == StatusHomeObservation && e.Until == nil:
			return missing(field("until"))
		}
		if err := checkLabel(field("reason"), e.Reason, MaxStatusReason); err != nil {
			return err
		}
		seen[e.Pass] = true
	}
	return nil
}

// EncodeStatusList validates l and returns its wire form.
func EncodeStatusList(l StatusList) ([]byte, error) {
	if err := l.Validate(); err != nil {
		return nil, err
	}
	return json.Marshal(struct {
		V int `json:"v"`
		StatusList
	}{Version, l})
}

// DecodeStatusList parses and validates a status list.
func DecodeStatusList(data []byte) (StatusList, error) {
	var w struct {
		Site    *string `json:"site"`
		Version *uint64 `json:"version"`
		Issued  *string `json:"issued"`
		Entries []struct {
			Pass   string     `json:"pass_id"`
			Status PassStatus `json:"status"`
			Until  *string    `json:"until"`
			Reason string     `json:"reason"`
		} `json:"entries"`
	}
	if err := decodeVersioned(data, &w); err != nil {
		return StatusList{}, err
	}
	switch {
	case w.Site == nil:
		return StatusList{}, missing("site")
	case w.Version == nil:
		return StatusList{}, missing("version")
	case w.Entries == nil:
		return StatusList{}, missing("entries")
	case len(w.Entries) > MaxStatusEntries:
		return StatusList{}, bad("entries", "more than %d entries", MaxStatusEntries)
	}
	issued, err := parseTime("issued", w.Issued)
	if err != nil {
		return StatusList{}, err
	}
	l := StatusList{Site: *w.Site, Version: *w.Version, Issued: issued, Entries: make([]StatusEntry, len(w.Entries))}
	for i, e := range w.Entries {
		until, err := optionalTime("until", e.Until)
		if err != nil {
			return StatusList{}, prefixed("entries["+itoa(i)+"]", err)
		}
		l.Entries[i] = StatusEntry{Pass: e.Pass, Status: e.Status, Until: until, Reason: e.Reason}
	}
	return l, l.Validate()
}

func itoa(i int) string { return strconv.Itoa(i) }
