package protocol

// Alert kinds: what the hub calls an alert it raises for an operator to
// look at (hub/alerts raises them, console.db keeps them, the console
// shows them). A kind is stored with each alert, so a kind is never
// renamed. Alerts raised from an entry take their kind from its reasons
// (AlertFever from ReasonFeverConfirmed, ...); the fleet's from the
// kiosks' state.
const (
	// From an entry's reasons.
	AlertFever            = "fever"             // ReasonFeverConfirmed: the re-measure still read at or over the line
	AlertPassForged       = "pass_forged"       // ReasonPassForged
	AlertPassRevoked      = "pass_revoked"      // ReasonPassRevoked
	AlertHomeObservation  = "home_observation"  // ReasonHomeObservation: someone under observation tried to leave
	AlertKeyRegion        = "key_region"        // ReasonKeyRegionReturnee
	AlertPostUnderstaffed = "post_understaffed" // ReasonUnderstaffed, once per gate per hour
	AlertListStale        = "status_list_stale" // ReasonListStale, or the hub's own check of a kiosk's status list
	AlertOther            = "alert"             // any other urgent entry

	// From the fleet's state.
	AlertOffline   = "offline"    // a kiosk offline too long
	AlertClockSkew = "clock_skew" // a kiosk's clock too far off the hub's
	AlertSyncGap   = "sync_gap"   // sequence numbers missing at the hub for too long
	AlertConflict  = "conflict"   // entries refused: the hub holds others under their numbers
)

// AlertKinds lists every alert kind, for catalogues and their tests.
var AlertKinds = []string{
	AlertFever, AlertPassForged, AlertPassRevoked, AlertHomeObservation, AlertKeyRegion,
	AlertPostUnderstaffed, AlertListStale, AlertOther,
	AlertOffline, AlertClockSkew, AlertSyncGap, AlertConflict,
}
