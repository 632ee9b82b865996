package gatepost

import (
	"slices"
	"strings"
	"testing"
)

// layers says, inside the two programs, which of our packages a package
// may not import (tests included): each program's parts point one way, as
// the trees do. A rule names a package; its subpackages follow it.
var layers = []struct {
	pkg    string
	mayNot []string
	why    string
	// testsMay are what its tests may import all the same: the console's
	// tests run the alert follower and the purge to see what an operator
	// would.
	testsMay []string
}{
	// The hub.
	{"hub/console", []string{"hub/link", "hub/ingest", "hub/broker", "hub/server", "hub/alerts", "hub/retention"},
		"the console serves HTTP and reads stores; it neither talks MQTT nor runs jobs", []string{"hub/alerts", "hub/retention"}},
	{"hub/alerts", []string{"hub/console", "hub/link", "hub/server"}, "alerts run whether or not the console does", nil},
	{"hub/retention", []string{"hub/console", "hub/link", "hub/server", "hub/alerts"}, "retention runs on its own", nil},
	{"hub/ingest", []string{"hub/console", "hub/link", "hub/server", "hub/alerts"}, "ingest stores and acks through interfaces it declares",
		[]string{"hub/link"}}, // its flood test runs the real link
	{"hub/link", []string{"hub/console", "hub/records", "hub/operators", "hub/passes", "hub/ingest", "hub/server"},
		"the MQTT link carries bytes; it knows no store", nil},
	{"hub/records", []string{"hub/console", "hub/link", "hub/server", "hub/ingest", "hub/alerts", "hub/operators", "hub/passes"},
		"stores import no one who uses them", nil},
	{"hub/operators", []string{"hub/console", "hub/link", "hub/server", "hub/ingest", "hub/alerts"}, "stores import no one who uses them", nil},
	{"hub/passes", []string{"hub/console", "hub/link", "hub/server", "hub/ingest", "hub/alerts"}, "stores import no one who uses them", nil},
	{"hub/downlink", []string{"hub/console", "hub/link", "hub/server"}, "one path for every downlink, below its callers", nil},
	{"hub/registry", []string{"hub/console", "hub/link", "hub/server", "hub/ingest", "hub/alerts", "hub/broker", "hub/enroll"},
		"the kiosk register is a store: it imports no one who uses it", nil},
	{"hub/sqlstore", []string{"hub/registry", "hub/records", "hub/operators", "hub/passes", "hub/console", "hub/link", "hub/server", "hub/ingest", "hub/alerts"},
		"the two engines lie below every store: a store imports them, never the reverse", nil},
	{"hub/enroll", []string{"hub/console", "hub/link", "hub/server", "hub/ingest", "hub/broker"},
		"enrollment answers over HTTPS on the register; the server mounts it, the console and CLI call it", nil},
	{"hub/broker", []string{"hub/registry", "hub/console", "hub/link", "hub/server", "hub/ingest", "hub/records"},
		"the broker's access rule is given its checks as functions: it knows no store", nil},
	// The kiosk.
	{"kiosk/enrollment", []string{"kiosk/journal", "kiosk/uplink", "kiosk/screen", "kiosk/daemon", "kiosk/gate", "kiosk/checkpoint", "hardware"},
		"the enrollment is kept and redeemed on its own; the daemon and the command use it", nil},
	{"kiosk/identity", []string{"kiosk/journal", "kiosk/uplink", "kiosk/screen", "kiosk/daemon", "kiosk/gate", "kiosk/enrollment", "hardware"},
		"the kiosk key is a leaf", nil},
	{"kiosk/checkpoint", []string{"kiosk/journal", "kiosk/uplink", "kiosk/screen", "kiosk/daemon", "kiosk/gate", "kiosk/config", "hardware"},
		"the gate's rules are pure: no I/O", nil},
	{"kiosk/passcheck", []string{"kiosk/journal", "kiosk/uplink", "kiosk/screen", "kiosk/daemon", "kiosk/gate", "kiosk/checkpoint", "hardware"},
		"the pass verifier is pure: no I/O", nil},
	{"kiosk/journal", []string{"kiosk/uplink", "kiosk/screen", "kiosk/daemon", "kiosk/gate", "kiosk/checkpoint", "hardware"},
		"the journal stores entries; it knows no rule, link or screen", nil},
	{"kiosk/uplink", []string{"kiosk/screen", "kiosk/daemon", "kiosk/gate", "kiosk/checkpoint", "hardware"},
		"the uplink carries the journal to the hub; it knows no screen or device", nil},
	{"kiosk/screen", []string{"kiosk/journal", "kiosk/uplink", "kiosk/daemon", "kiosk/gate", "hardware"},
		"the screen renders what it is given", nil},
	{"kiosk/gate", []string{"kiosk/uplink", "kiosk/daemon"}, "the gate application is wired to the uplink, never calls it", nil},
	{"kiosk/words", []string{"kiosk/checkpoint", "kiosk/passcheck", "kiosk/journal", "kiosk/uplink", "kiosk/screen", "kiosk/gate", "kiosk/daemon", "kiosk/config"},
		"the catalogue is a leaf every part reads", nil},
}

// entrypoints may be imported only by their program's main and by demo,
// e2e and bench, which run whole programs.
var entrypoints = map[string][]string{
	"hub/server":   {"hub", "demo", "e2e", "bench"},
	"kiosk/daemon": {"kiosk", "demo", "e2e", "bench"},
}

func under(rel, pkg string) bool { return rel == pkg || strings.HasPrefix(rel, pkg+"/") }

func TestLayersInsideThePrograms(t *testing.T) {
	exists := map[string]bool{}
	for _, p := range packages(t) {
		from := p.rel()
		exists[from] = true
		own := p.oursNotTests()
		for _, to := range p.ours() {
			byTests := !slices.Contains(own, to)
			if under(to, from) {
				continue
			}
			for _, l := range layers {
				if !under(from, l.pkg) {
					continue
				}
				for _, no := range l.mayNot {
					if under(to, no) && !(byTests && slices.Contains(l.testsMay, no)) {
						t.Errorf("%s imports %s: %s", from, to, l.why)
					}
				}
			}
			if who, ok := entrypoints[to]; ok && !slices.Contains(who, from) && !under(from, "e2e") && !under(from, "bench") {
				t.Errorf("%s imports %s: only %v may (it runs a whole program)", from, to, who)
			}
		}
	}
	// A rule about a package that no longer exists checks nothing: keep
	// the table true.
	for _, l := range layers {
		if !exists[l.pkg] {
			t.Errorf("layer rule for %s: no such package; update the table", l.pkg)
		}
	}
	for p := range entrypoints {
		if !exists[p] {
			t.Errorf("entry point %s: no such package; update the table", p)
		}
	}
}
