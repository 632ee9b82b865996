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

	// From the hub's ingest.
	AlertRefused = "refused" // messages from a kiosk refused as a security event; the reason is one of RefusalReasons
)

// AlertKinds lists every alert kind, for catalogues and their tests.
var AlertKinds = []string{
	AlertFever, AlertPassForged, AlertPassRevoked, AlertHomeObservation, AlertKeyRegion,
	AlertPostUnderstaffed, AlertListStale, AlertOther,
	AlertOffline, AlertClockSkew, AlertSyncGap, AlertConflict,
	AlertRefused,
}

// Refusal reasons: why the hub's ingest refused a message from a kiosk.
// Each is a label of the hub's gatepost_hub_rejected_total{reason}
// counter and is named in log lines and in AlertRefused alerts, so a
// reason is never renamed.
const (
	RefusedNotEnrolled = "not_enrolled"      // the kiosk is not in the hub's register
	RefusedRetired     = "retired"           // the kiosk was retired
	RefusedWrongSite   = "wrong_site"        // the kiosk is enrolled at another site than its topic names
	RefusedIdentity    = "identity_mismatch" // the message names another site or kiosk than its topic
	RefusedSeqWindow   = "seq_window"        // a sequence too far beyond the highest the hub holds
	RefusedRateLimited = "rate_limited"      // the kiosk sent faster than its limit
	RefusedQueueFull   = "queue_full"        // the hub's queue was full (ingest behind)
	RefusedBadMessage  = "bad_message"       // a bad topic, or a message that does not decode or validate
	RefusedTooLarge    = "too_large"         // a message over protocol.MaxMessageBytes
	RefusedChain       = "chain"             // entries whose chain hashes do not continue what the hub holds
	RefusedSimulated   = "simulated"         // entries from simulated devices, for a site that is not a test site
	RefusedSignature   = "signature"         // a batch not signed, or not signed by the kiosk's enrolled key (or edited after signing)
)

// RefusalReasons lists every refusal reason, for counters and catalogues.
var RefusalReasons = []string{
	RefusedNotEnrolled, RefusedRetired, RefusedWrongSite, RefusedIdentity, RefusedSeqWindow,
	RefusedRateLimited, RefusedQueueFull, RefusedBadMessage, RefusedTooLarge, RefusedChain, RefusedSimulated,
	RefusedSignature,
}

// SecurityRefusal reports whether a refusal for reason is a security
// event, one an operator is alerted to: a message from a kiosk the hub
// does not admit, one naming another identity than its topic, or a
// sequence far ahead of the kiosk's. (A flood of rate-limited messages
// is one too; a single one is not, so its caller decides.)
func SecurityRefusal(reason string) bool {
	switch reason {
	case RefusedNotEnrolled, RefusedRetired, RefusedWrongSite, RefusedIdentity, RefusedSeqWindow, RefusedChain,
		RefusedSignature:
		return true
	}
	return false
}
