package daemon

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"testing"

	"github.com/gatepost/gatepost/hardware/sim"
	"github.com/gatepost/gatepost/kiosk/config"
)

// A kiosk restarted while someone rests before their second reading
// takes their next scan as that second reading: the hold is restored from
// the journal, not forgotten with the process.
func TestFeverHoldSurvivesRestart(t *testing.T) {
	th, sc, cfg := simGate(t, sim.GYMCU90614)
	cfg.Rules.RecheckAfter = config.Duration(0) // the rest is over at once
	cfg.Scanner.DuplicateWindow = 0

	first, err := Open(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- first.Run(ctx) }()
	th.SetTemperature(37.8, 20)
	if got := scan(t, first, sc, "B-7"); !slices.Contains(got.Reasons, "fever_hold") {
		cancel()
		<-done
		t.Fatalf("first reading at 37.8 °C = %+v, want a fever hold", got)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run() = %v", err)
	}

	second := startDaemon(t, cfg)
	if got := scan(t, second, sc, "B-7"); !slices.Contains(got.Reasons, "fever_confirmed") || got.Decision != "alert" {
		t.Fatalf("second reading after a restart = %+v, want fever_confirmed and alert (not a new hold)", got)
	}
	// The hold ended with the second reading: a third scan is a first
	// reading again.
	if got := scan(t, second, sc, "B-7"); !slices.Contains(got.Reasons, "fever_hold") {
		t.Fatalf("third reading = %+v, want a new fever hold", got)
	}
}
