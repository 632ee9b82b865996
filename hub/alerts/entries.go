package alerts

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/gatepost/gatepost/hub/operators"
	"github.com/gatepost/gatepost/hub/records"
	"github.com/gatepost/gatepost/protocol"
)

// reasonFeverEarly is the fever reason of the first kiosk builds (before
// fever_hold and fever_confirmed): an entry from one of them, in a
// journal synced or imported late, still raises a fever alert.
const reasonFeverEarly = "fever"

// alertReasons maps the checkpoint's reason codes to alert kinds, most
// urgent first: an entry raises one alert, of its first matching kind.
var alertReasons = []struct{ reason, kind string }{
	{protocol.ReasonFeverConfirmed, protocol.AlertFever},
	{reasonFeverEarly, protocol.AlertFever},
	{protocol.ReasonPassForged, protocol.AlertPassForged},
	{protocol.ReasonPassRevoked, protocol.AlertPassRevoked},
	{protocol.ReasonHomeObservation, protocol.AlertHomeObservation},
	{protocol.ReasonKeyRegionReturnee, protocol.AlertKeyRegion},
	{protocol.ReasonUnderstaffed, protocol.AlertPostUnderstaffed},
	{protocol.ReasonListStale, protocol.AlertListStale},
}

// perHour are kinds that the same condition repeats on every entry while
// it lasts: one alert per gate per hour, not one per person. Their reasons
// raise an alert on entries that are not urgent, and with nobody watching
// the live view the follower reads only urgent entries and those with
// records.AlertingReasons: the two must name the same reasons
// (TestPerHourReasonsAreRead).
var perHour = map[string]bool{protocol.AlertPostUnderstaffed: true, protocol.AlertListStale: true}

// raiseFor raises the alert an entry calls for, if any.
func (f *Follower) raiseFor(ctx context.Context, e records.Stored) error {
	kind := ""
	for _, ar := range alertReasons {
		if slices.Contains(e.Reasons, ar.reason) {
			kind = ar.kind
			break
		}
	}
	if kind == "" && e.Urgent() {
		kind = protocol.AlertOther
	}
	if kind == "" || (!e.Urgent() && !perHour[kind]) {
		return nil
	}
	key := fmt.Sprintf("entry:%s:%d", e.Kiosk, e.Seq)
	if perHour[kind] {
		key = fmt.Sprintf("%s:%s:%s", kind, e.Kiosk, e.Received.Format("2006-01-02T15"))
	}
	detail := fmt.Sprintf("%s #%d %s %s", e.Kiosk, e.Seq, strings.Join(e.Reasons, " "), e.Unit)
	if e.Temperature != nil {
		detail += fmt.Sprintf(" %.1f °C", e.Temperature.ScreenedC)
	}
	return f.raise(ctx, operators.Alert{Key: key, Kind: kind, Site: e.Site, Kiosk: e.Kiosk,
		Detail: detail, Raised: e.Received})
}
