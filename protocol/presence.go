package protocol

import (
	"encoding/json"
	"time"
)

// Status is a kiosk's retained presence message on its status topic. The
// kiosk publishes Online=true (with its sync position and the downlink
// versions it runs) when it connects and when these change; the broker
// publishes the kiosk's last will, Online=false, when the connection dies
// without a goodbye.
type Status struct {
	Kiosk    string            `json:"kiosk"`
	Site     string            `json:"site"`
	Online   bool              `json:"online"`
	Time     time.Time         `json:"time,omitzero"`     // kiosk clock; zero in a last will
	Unsynced uint64            `json:"unsynced"`          // entries not yet acknowledged
	DiskLow  bool              `json:"disk_low"`          // the journal's disk is nearly full
	Failures uint64            `json:"write_failures"`    // journal writes that failed since start
	Downlink map[string]uint64 `json:"downlink,omitzero"` // kind -> version running
	// Session names the kiosk's connection to the broker: the same in the
	// online messages it publishes and in the last will it left when it
	// connected. A will from a connection the kiosk has since replaced
	// (the broker notices a dead link only after the keep-alive) is stale,
	// and the hub ignores it. Empty from kiosks older than this field.
	Session string `json:"session,omitempty"`
}

// Validate checks s.
func (s *Status) Validate() error {
	switch {
	case s.Kiosk == "":
		return missing("kiosk")
	case !ValidName(s.Kiosk):
		return bad("kiosk", "must be 1-64 letters, digits, '-' or '_', got %q", s.Kiosk)
	case s.Site == "":
		return missing("site")
	case !ValidName(s.Site):
		return bad("site", "must be 1-64 letters, digits, '-' or '_', got %q", s.Site)
	case s.Session != "" && !ValidName(s.Session):
		return bad("session", "must be 1-64 letters, digits, '-' or '_', got %q", s.Session)
	}
	for k := range s.Downlink {
		if !DownlinkKind(k).Valid() {
			return bad("downlink", "unknown kind %q", k)
		}
	}
	return nil
}

// EncodeStatus validates s and returns its wire form.
func EncodeStatus(s Status) ([]byte, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return json.Marshal(struct {
		V int `json:"v"`
		Status
	}{Version, s})
}

// DecodeStatus parses and validates a status message.
func DecodeStatus(data []byte) (Status, error) {
	var w struct {
		Kiosk    *string           `json:"kiosk"`
		Site     *string           `json:"site"`
		Online   *bool             `json:"online"`
		Time     *string           `json:"time"`
		Unsynced uint64            `json:"unsynced"`
		DiskLow  bool              `json:"disk_low"`
		Failures uint64            `json:"write_failures"`
		Downlink map[string]uint64 `json:"downlink"`
		Session  string            `json:"session"`
	}
	if err := decodeVersioned(data, &w); err != nil {
		return Status{}, err
	}
	switch {
	case w.Kiosk == nil:
		return Status{}, missing("kiosk")
	case w.Site == nil:
		return Status{}, missing("site")
	case w.Online == nil:
		return Status{}, missing("online")
	}
	s := Status{Kiosk: *w.Kiosk, Site: *w.Site, Online: *w.Online, Unsynced: w.Unsynced,
		DiskLow: w.DiskLow, Failures: w.Failures, Downlink: w.Downlink, Session: w.Session}
	if w.Time != nil {
		t, err := parseTime("time", w.Time)
		if err != nil {
			return Status{}, err
		}
		s.Time = t
	}
	return s, s.Validate()
}
