package checkpoint

import (
	"fmt"
	"strings"

	"github.com/gatepost/gatepost/protocol"
)

// Reason codes of a visitor's registration.
const (
	ReasonVisitor             = "visitor"               // registered: the three questions answered
	ReasonVisitorIncomplete   = "visitor_incomplete"    // a question unanswered
	ReasonVisitorsNotAdmitted = "visitors_not_admitted" // registered and turned back, as the rules say
	ReasonReturnee            = "returnee_registered"
	ReasonKeyRegionReturnee   = "key_region_returnee" // returning from a key epidemic region: report at once
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
	for _, q := range []struct{ zh, en, v string }{
		{"姓名", "name", v.Name}, {"联系方式", "contact", v.Contact}, {"从哪里来", "where from", v.From},
		{"到访哪户", "unit visited", v.Visiting}, {"事由", "purpose", v.Purpose},
	} {
		if strings.TrimSpace(q.v) == "" {
			missing = append(missing, q.zh+"/"+q.en)
		}
	}
	if v.Returnee && (strings.TrimSpace(v.Origin) == "" || v.Returned == "") {
		missing = append(missing, "返回地与日期/origin and date of return")
	}
	if err := v.Validate(); err != nil && len(missing) == 0 {
		missing = append(missing, "答案过长或含非法字符/answers too long or with control characters")
	}
	if len(missing) > 0 {
		return combine(part{sevDeny, ReasonVisitorIncomplete, Say{
			"请补全登记：" + strings.Join(missing, "、") + "。",
			"Registration incomplete: " + strings.Join(missing, ", ") + "."}, false})
	}
	parts := []part{{sev: sevAllow, reason: ReasonVisitor, say: Say{"访客已登记，请通行。", "Visitor registered: go in."}}}
	if !r.VisitorsAdmitted {
		parts = append(parts, part{sevDeny, ReasonVisitorsNotAdmitted, Say{
			"访客已登记。按小区规定访客不得入内，请劝返。",
			"Visitor registered. The compound admits no visitors: please turn them back."}, false})
	}
	if v.Returnee {
		if region, ok := keyRegion(v.Origin, r.KeyRegions); ok {
			parts = append(parts, part{sevAlert, ReasonKeyRegionReturnee, Say{
				fmt.Sprintf("重点地区（%s）返回人员：已立即上报，请等候居委会处置。", region),
				fmt.Sprintf("Returnee from a key region (%s): reported at once; wait for the committee's instructions.", region)}, true})
		} else {
			parts = append(parts, part{sev: sevNote, reason: ReasonReturnee})
		}
	}
	parts = append(parts, temperatureParts(in.Reading, in.Recheck, 0, r)...)
	o := combine(parts...)
	o.Hold = o.Decision != protocol.DecisionAlert && has(o.Reasons, ReasonFeverHold)
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
