package gate

import (
	"math"
	"time"

	"github.com/gatepost/gatepost/kiosk/checkpoint"
	"github.com/gatepost/gatepost/kiosk/config"
	"github.com/gatepost/gatepost/protocol"
)

// Fever returns the fever threshold in force: the hub's latest config if
// it set one, else the file's.
func (g *Gate) Fever() float64 { return math.Float64frombits(g.feverC.Load()) }

// ApplyConfig applies a configuration the hub sent (the fever line) from
// the next decision on; a payload that does not decode is refused and the
// current configuration kept.
func (g *Gate) ApplyConfig(version uint64, payload []byte) {
	c, err := protocol.DecodeConfigPayload(payload)
	if err != nil {
		g.log.Error("configuration from the hub refused; keeping the current one", "version", version, "err", err)
		return
	}
	if c.FeverC != nil {
		g.feverC.Store(math.Float64bits(*c.FeverC))
	}
	g.log.Info("configuration from the hub applied", "version", version, "fever_c", g.Fever())
}

// rules are the configured rules with the fever line the hub last pushed.
func (g *Gate) rules() checkpoint.Rules {
	r := checkpointRules(g.cfg)
	r.FeverC = g.Fever()
	return r
}

// checkpointRules are the configured rules in checkpoint's terms.
func checkpointRules(cfg config.Config) checkpoint.Rules {
	r := cfg.Rules
	return checkpoint.Rules{
		FeverC: r.FeverC, FeverMode: checkpoint.FeverMode(r.FeverMode),
		RecheckAfter: r.RecheckAfter.D(), RecheckWithin: r.RecheckWithin.D(),
		RequirePass: r.RequirePass, VisitorsAdmitted: r.VisitorsAdmitted, KeyRegions: r.KeyRegions,
		MinOnPost: r.MinOnPost, Location: time.Local,
	}
}
