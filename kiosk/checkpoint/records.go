package checkpoint

import (
	"fmt"

	"github.com/gatepost/gatepost/kiosk/passcheck"
)

// Reason codes of records.
const (
	ReasonParcel        = "parcel_at_drop_point"
	ReasonDisinfected   = "disinfected"
	ReasonUnknownArea   = "unknown_area"
	ReasonNotGuardPass  = "not_guard_pass" // a shift or disinfection needs a valid staff or volunteer pass
	ReasonShiftIn       = "shift_in"
	ReasonShiftOut      = "shift_out"
	ReasonAlreadyOnPost = "already_on_post"
	ReasonNotOnPost     = "not_on_post"
	ReasonUnderstaffed  = "post_understaffed" // fewer than Rules.MinOnPost on post
)

// ReasonScanUnreadable: the scanner read a code too long or not text.
const ReasonScanUnreadable = "scan_unreadable"

// UnreadableScan is the outcome for a code the scanner could not pass on:
// logged as a failed scan, without its text.
func UnreadableScan() Outcome {
	return combine(part{sevDeny, ReasonScanUnreadable, Say{
		"无法读取此码（过长或乱码），请重扫；住户请出示出入证。",
		"This code could not be read (too long or garbled): scan again; residents show their entry pass."}, false})
}

// MaxParcels bounds one delivery record.
const MaxParcels = 1000

// Delivery records parcels left at the drop point. Couriers do not enter.
func Delivery(count int) Outcome {
	count = min(max(count, 1), MaxParcels)
	return combine(part{sevRecord, ReasonParcel, Say{
		fmt.Sprintf("已记录：%d 件快递放在指定投放点。快递员不得入内。", count),
		fmt.Sprintf("Recorded: %d parcel(s) left at the drop point. Couriers do not enter.", count)}, false})
}

// Areas are what the property staff disinfect daily, as on the seed's
// disinfection record sheet; the key is the code journaled.
var Areas = map[string]Say{
	"lift_buttons":    {"电梯按钮", "lift buttons"},
	"handrails":       {"楼梯扶手", "handrails"},
	"stairwell_doors": {"楼道门", "stairwell doors"},
	"gate":            {"门岗", "the gate"},
	"drop_point":      {"快递投放点", "the parcel drop point"},
}

// Disinfection records an area disinfected by the holder of pass by,
// which must be a valid staff or volunteer pass.
func Disinfection(area string, by passcheck.Result) Outcome {
	if p := guardPart(by); p != nil {
		return combine(*p)
	}
	name, ok := Areas[area]
	if !ok {
		return combine(part{sevDeny, ReasonUnknownArea, Say{"请选择消毒区域。", "Choose the area disinfected."}, false})
	}
	return combine(part{sevRecord, ReasonDisinfected, Say{
		fmt.Sprintf("已记录：%s 已消毒（%s）。", name.ZH, by.Pass.Name),
		fmt.Sprintf("Recorded: %s disinfected (%s).", name.EN, by.Pass.Name)}, false})
}

// guardPart is nil for a valid staff or volunteer pass, else the refusal.
func guardPart(res passcheck.Result) *part {
	if res.Verdict == passcheck.Valid && res.Pass != nil && res.Pass.Kind.Guard() {
		return nil
	}
	return &part{sevDeny, ReasonNotGuardPass, Say{
		"请扫描有效的志愿者或工作人员证。",
		"Scan a valid volunteer or staff pass."}, false}
}
