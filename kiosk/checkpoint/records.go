package checkpoint

import (
	"slices"
	"strconv"

	"github.com/gatepost/gatepost/kiosk/passcheck"
	"github.com/gatepost/gatepost/protocol"
)

// UnreadableScan is the outcome for a code the scanner could not pass on:
// logged as a failed scan, without its text.
func UnreadableScan() Outcome {
	return combine(part{sevDeny, protocol.ReasonScanUnreadable, say("say_scan_unreadable"), false})
}

// MaxParcels bounds one delivery record.
const MaxParcels = 1000

// Delivery records parcels left at the drop point. Couriers do not enter.
func Delivery(count int) Outcome {
	count = min(max(count, 1), MaxParcels)
	return combine(part{sevRecord, protocol.ReasonParcel, say("say_parcel_at_drop_point", arg("count", strconv.Itoa(count))), false})
}

// Disinfection records an area disinfected by the holder of pass by,
// which must be a valid staff or volunteer pass; area is one of
// protocol.Areas.
func Disinfection(area string, by passcheck.Result) Outcome {
	if p := guardPart(by); p != nil {
		return combine(*p)
	}
	if !slices.Contains(protocol.Areas, area) {
		return combine(part{sevDeny, protocol.ReasonUnknownArea, say("say_unknown_area"), false})
	}
	return combine(part{sevRecord, protocol.ReasonDisinfected,
		say("say_disinfected", Arg{Name: "area", Area: area}, arg("name", by.Pass.Name)), false})
}

// guardPart is nil for a valid staff or volunteer pass, else the refusal.
func guardPart(res passcheck.Result) *part {
	if res.Verdict == passcheck.Valid && res.Pass != nil && res.Pass.Kind.Guard() {
		return nil
	}
	return &part{sevDeny, protocol.ReasonNotGuardPass, say("say_not_guard_pass"), false}
}
