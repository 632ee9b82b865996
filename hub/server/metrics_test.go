package server

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gatepost/gatepost/internal/testkit"
	"github.com/gatepost/gatepost/protocol"
)

// /metrics counts refusals by reason, every reason present from the
// start.
func TestMetricsCountRefusalsByReason(t *testing.T) {
	s := open(t, Config{})
	k := newKiosk(t, s, s.BrokerURL())
	k.publish(t, []byte("not a batch"))
	want := `gatepost_hub_rejected_total{reason="bad_message"} 1`
	testkit.Eventually(t, "the malformed batch counted", func() bool {
		return strings.Contains(scrape(t, s), want)
	})
	metrics := scrape(t, s)
	for _, r := range protocol.RefusalReasons {
		if r == protocol.RefusedBadMessage {
			continue
		}
		if line := fmt.Sprintf("gatepost_hub_rejected_total{reason=%q} 0", r); !strings.Contains(metrics, line) {
			t.Errorf("/metrics lacks %q", line)
		}
	}
}

// /metrics carries the runtime's and the process's own figures, which a
// soak (bench/soak) and an operator watch for leaks.
func TestMetricsHaveRuntimeFigures(t *testing.T) {
	metrics := scrape(t, open(t, Config{}))
	for _, name := range []string{"go_goroutines ", "go_memstats_heap_inuse_bytes ", "process_open_fds ", "process_resident_memory_bytes "} {
		if !strings.Contains(metrics, "\n"+name) {
			t.Errorf("/metrics lacks %s", name)
		}
	}
}
