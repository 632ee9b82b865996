package protocol

// Reason codes: the machine-readable "why" of an entry (Entry.Reasons),
// most important first. They cross the wire and are stored at the hub, so
// a code is never renamed; both programs use these constants, and the
// catalogues in protocol/text give each its words (zh-CN first, en).
const (
	// A person's check.
	ReasonTemperatureNormal = "temperature_normal"
	ReasonRecheckNormal     = "temperature_normal_on_recheck"
	ReasonFeverHold         = "fever_hold"      // first reading at or over the line: rest, then measure again
	ReasonFeverRest         = "fever_rest_more" // second reading came before the rest was over
	ReasonFeverConfirmed    = "fever_confirmed" // second reading still at or over the line
	ReasonSoftMode          = "soft_mode"       // let in despite a confirmed fever, and reported
	ReasonNoReading         = "no_reading"
	ReasonNoScan            = "no_scan" // nothing scanned (measure-only mode)
	ReasonNoPass            = "no_pass" // nothing scanned where a pass is required
	ReasonNoKeys            = "no_keys" // the kiosk has no key set: no pass can be checked
	ReasonListStale         = "status_list_stale"
	ReasonClockBehind       = "kiosk_clock_behind" // the kiosk's clock is behind the hub's
	ReasonHomeObservation   = "home_observation"
	ReasonScanUnreadable    = "scan_unreadable" // the scanner read a code too long or not text

	// An implausible reading, as the thermometer's plausibility check
	// names it (hardware/thermometer uses the same codes).
	ReasonBelowRange = "below_range"
	ReasonAboveRange = "above_range"
	ReasonTooClose   = "too_close"
	ReasonTooFar     = "too_far"

	// Pass verdicts: "pass_" and the verdict; home observation is
	// ReasonHomeObservation.
	ReasonPassValid          = "pass_valid"
	ReasonPassNotAPass       = "pass_not_a_pass"
	ReasonPassMalformed      = "pass_malformed"
	ReasonPassUnknownVersion = "pass_unknown_version"
	ReasonPassUnknownKey     = "pass_unknown_key"
	ReasonPassKeyRetired     = "pass_key_retired"
	ReasonPassForged         = "pass_forged"
	ReasonPassWrongSite      = "pass_wrong_site"
	ReasonPassRevoked        = "pass_revoked"
	ReasonPassNotYetValid    = "pass_not_yet_valid"
	ReasonPassExpired        = "pass_expired"
	ReasonPassUnchecked      = "pass_unchecked" // a verdict this build does not know

	// Records.
	ReasonParcel        = "parcel_at_drop_point"
	ReasonDisinfected   = "disinfected"
	ReasonUnknownArea   = "unknown_area"
	ReasonNotGuardPass  = "not_guard_pass" // a shift or disinfection needs a valid staff or volunteer pass
	ReasonShiftIn       = "shift_in"
	ReasonShiftOut      = "shift_out"
	ReasonAlreadyOnPost = "already_on_post"
	ReasonNotOnPost     = "not_on_post"
	ReasonUnderstaffed  = "post_understaffed" // fewer guards on post than the rules want

	// A visitor's registration.
	ReasonVisitor             = "visitor"               // registered: the three questions answered
	ReasonVisitorIncomplete   = "visitor_incomplete"    // a question unanswered
	ReasonVisitorsNotAdmitted = "visitors_not_admitted" // registered and turned back, as the rules say
	ReasonReturnee            = "returnee_registered"
	ReasonKeyRegionReturnee   = "key_region_returnee" // returning from a key epidemic region: report at once
)

// Reasons lists every reason code this build knows, for catalogues and
// their tests. A code not listed is still stored and shown as it is: a
// newer kiosk may send one.
var Reasons = []string{
	ReasonTemperatureNormal, ReasonRecheckNormal, ReasonFeverHold, ReasonFeverRest, ReasonFeverConfirmed,
	ReasonSoftMode, ReasonNoReading, ReasonNoScan, ReasonNoPass, ReasonNoKeys, ReasonListStale,
	ReasonClockBehind, ReasonHomeObservation, ReasonScanUnreadable,
	ReasonBelowRange, ReasonAboveRange, ReasonTooClose, ReasonTooFar,
	ReasonPassValid, ReasonPassNotAPass, ReasonPassMalformed, ReasonPassUnknownVersion, ReasonPassUnknownKey,
	ReasonPassKeyRetired, ReasonPassForged, ReasonPassWrongSite, ReasonPassRevoked, ReasonPassNotYetValid,
	ReasonPassExpired, ReasonPassUnchecked,
	ReasonParcel, ReasonDisinfected, ReasonUnknownArea, ReasonNotGuardPass, ReasonShiftIn, ReasonShiftOut,
	ReasonAlreadyOnPost, ReasonNotOnPost, ReasonUnderstaffed,
	ReasonVisitor, ReasonVisitorIncomplete, ReasonVisitorsNotAdmitted, ReasonReturnee, ReasonKeyRegionReturnee,
}

// Disinfection areas: the codes journaled in Entry.Area, as on the seed's
// disinfection record sheet, in the order the guard's screen offers them.
const (
	AreaLiftButtons    = "lift_buttons"
	AreaHandrails      = "handrails"
	AreaStairwellDoors = "stairwell_doors"
	AreaDropPoint      = "drop_point"
	AreaGate           = "gate"
)

// Areas lists the disinfection areas in the screen's order.
var Areas = []string{AreaLiftButtons, AreaHandrails, AreaStairwellDoors, AreaDropPoint, AreaGate}
