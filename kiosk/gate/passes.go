package gate

import (
	"context"

	"github.com/gatepost/gatepost/kiosk/config"
	"github.com/gatepost/gatepost/kiosk/journal"
	"github.com/gatepost/gatepost/kiosk/passcheck"
	"github.com/gatepost/gatepost/protocol"
)

// passSource gives the pass verifier the newest key set and status list
// the kiosk holds: what the hub sent over the downlink (kept in the
// journal), or the files `hub passes export-kiosk` wrote for an
// installation with no link yet, whichever carries the higher version.
type passSource struct {
	journal *journal.Journal // nil: files only
	files   passcheck.Dir
}

var _ passcheck.Source = passSource{}

// NewPassSource returns the verifier's source for a kiosk configured by
// cfg; j may be nil (no journal yet, or none readable).
func NewPassSource(cfg config.Config, j *journal.Journal) passcheck.Source {
	return passSource{journal: j, files: passcheck.Dir(cfg.PassesDir())}
}

// Latest returns the wire bytes of kind's newest payload, or nil when the
// kiosk has none.
func (s passSource) Latest(ctx context.Context, kind string) ([]byte, error) {
	file, ferr := s.files.Latest(ctx, kind)
	if s.journal == nil {
		return file, ferr
	}
	v, sent, err := s.journal.Downlink(ctx, protocol.DownlinkKind(kind))
	if err != nil || v == 0 {
		return file, ferr
	}
	if ferr == nil && file != nil && protocol.PayloadVersion(file) > protocol.PayloadVersion(sent) {
		return file, nil
	}
	return sent, nil
}
