package checkpoint

import (
	"strings"

	"github.com/gatepost/gatepost/protocol"
)

// VisitorInput is one visitor at the gate.
type VisitorInput struct {
	Visitor protocol.Visitor
	Reading *protocol.Reading
	Recheck bool
}

// Visit applies the "three questions, three registrations" and the
// returnee rules: who (name, contact), from where, visiting which unit and
// why; a returnee gives origin and date, and an origin among the key
// regions is reported at once.
func Visit(in VisitorInput, r Rules) Outcome {
	v := in.Visitor
	var missing []string
	for _, q := range []struct{ key, v string }{
		{"say_missing_name", v.Name}, {"say_missing_contact", v.Contact}, {"say_missing_from", v.From},
		{"say_missing_visiting", v.Visiting}, {"say_missing_purpose", v.Purpose},
	} {
		if strings.TrimSpace(q.v) == "" {
			missing = append(missing, q.key)
		}
	}
	if v.Returnee && (strings.TrimSpace(v.Origin) == "" || v.Returned == "") {
		missing = append(missing, "say_missing_return")
	}
	if err := v.Validate(); err != nil && len(missing) == 0 {
		missing = append(missing, "say_missing_invalid")
	}
	if len(missing) > 0 {
		return combine(part{sevDeny, protocol.ReasonVisitorIncomplete,
			say("say_visitor_incomplete", Arg{Name: "missing", Keys: missing}), false})
	}
	parts := []part{{sev: sevAllow, reason: protocol.ReasonVisitor, say: say("say_visitor")}}
	if !r.VisitorsAdmitted {
		parts = append(parts, part{sevDeny, protocol.ReasonVisitorsNotAdmitted, say("say_visitors_not_admitted"), false})
	}
	if v.Returnee {
		if region, ok := keyRegion(v.Origin, r.KeyRegions); ok {
			parts = append(parts, part{sevAlert, protocol.ReasonKeyRegionReturnee, say("say_key_region_returnee", arg("region", region)), true})
		} else {
			parts = append(parts, part{sev: sevNote, reason: protocol.ReasonReturnee})
		}
	}
	parts = append(parts, temperatureParts(in.Reading, in.Recheck, 0, r)...)
	o := combine(parts...)
	o.Hold = o.Decision != protocol.DecisionAlert && has(o.Reasons, protocol.ReasonFeverHold)
	return o
}

// keyRegion reports which configured key region origin names, if any.
func keyRegion(origin string, regions []string) (string, bool) {
	o := strings.ToLower(origin)
	for _, k := range regions {
		if k = strings.TrimSpace(k); k != "" && strings.Contains(o, strings.ToLower(k)) {
			return k, true
		}
	}
	return "", false
}
