package ingest

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// DefaultAdmitFor is how long ingest keeps Admit's answer for a kiosk: a
// flood does not query the register once a message, and a kiosk retired
// is refused within it.
const DefaultAdmitFor = 2 * time.Second

// admitKeys bounds the answers kept; past it the expired ones are
// forgotten, or all of them.
const admitKeys = 10000

// admission is Admit's answer for one kiosk.
type admission struct {
	reason string // "" when admitted, else a protocol.Refused* reason
	cause  error  // Admit's error, for the log
}

// errAdmitFailed is wrapped by the error of a message dropped because
// Admit failed without deciding (the register could not be read): it is
// neither stored nor acknowledged, and the kiosk sends it again.
var errAdmitFailed = errors.New("could not tell whether the kiosk is admitted")

// admitted checks that the kiosk of a message's topic is one the hub
// admits (Admit), keeping the answer AdmitFor. It returns nil for an
// admitted kiosk, a refusal (ErrRejected) for one refused, or an error
// wrapping errAdmitFailed when Admit failed.
func (in *Ingest) admitted(ctx context.Context, site, kiosk, topic string) error {
	if in.Admit == nil {
		return nil
	}
	key := site + "/" + kiosk
	now := in.now()
	a, ok := in.admits.get(key, now)
	if !ok {
		if err := in.Admit(ctx, site, kiosk); err != nil {
			a = admission{reason: in.admitReason(err), cause: err}
			if a.reason == "" {
				return in.admitFailed(site, kiosk, err)
			}
		}
		in.admits.put(key, a, now, now.Add(in.admitFor()))
	}
	if a.reason == "" {
		return nil
	}
	return in.refuse(refusal{site: site, kiosk: kiosk, topic: topic, reason: a.reason, err: a.cause})
}

// admitReason classifies an error of Admit by AdmitReasons.
func (in *Ingest) admitReason(err error) string {
	for sentinel, reason := range in.AdmitReasons {
		if errors.Is(err, sentinel) {
			return reason
		}
	}
	return ""
}

func (in *Ingest) admitFailed(site, kiosk string, err error) error {
	in.stats.admitErrors.Add(1)
	if ok, n := in.lines.allow(site+"/"+kiosk, "admit_failed"); ok {
		in.logger().Error("message dropped: the kiosk register could not be read; the kiosk will send it again",
			"site", site, "kiosk", kiosk, "err", err, "suppressed", n)
	}
	return fmt.Errorf("ingest %s/%s: %w: %w", site, kiosk, errAdmitFailed, err)
}

func (in *Ingest) admitFor() time.Duration {
	if in.AdmitFor <= 0 {
		return DefaultAdmitFor
	}
	return in.AdmitFor
}
