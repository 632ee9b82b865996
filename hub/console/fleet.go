package console

import (
	"fmt"
	"strings"

	"github.com/gatepost/gatepost/hub/records"
)

// kiosk is a kiosk with the ranges the hub lacks from it.
type kiosk = records.FleetKiosk

// maxGapsShown bounds the gaps listed per kiosk on the fleet page; the
// API has them all.
const maxGapsShown = 10

// gapsText renders ranges as "2, 5–9" ("none" for none).
func gapsText(gaps []records.Range) string {
	if len(gaps) == 0 {
		return "none"
	}
	var parts []string
	for i, g := range gaps {
		if i == maxGapsShown {
			parts = append(parts, fmt.Sprintf("… %d more", len(gaps)-i))
			break
		}
		if g.From == g.To {
			parts = append(parts, fmt.Sprint(g.From))
		} else {
			parts = append(parts, fmt.Sprintf("%d–%d", g.From, g.To))
		}
	}
	return strings.Join(parts, ", ")
}
