package uplink

import (
	"errors"
	"sync"
	"time"

	"github.com/gatepost/gatepost/protocol"
)

// openDownlink checks a message on a downlink topic: it must verify
// against the hub's downlink key pinned at enrollment (a forgery, an
// unsigned message, one signed for another purpose or by another key is
// refused before anything in it is read), and be addressed to this kiosk
// on the topic it names. It counts and logs what it refuses.
func (u *Uplink) openDownlink(topic string, payload []byte) (protocol.Downlink, bool) {
	if u.cfg.DownlinkKey == nil {
		u.stats.downlinksRefused.Add(1)
		u.refused(topic, errNotEnrolled)
		return protocol.Downlink{}, false
	}
	d, err := protocol.OpenDownlink(payload, u.cfg.DownlinkKey)
	if err != nil {
		u.stats.downlinksRefused.Add(1)
		u.refused(topic, err)
		return protocol.Downlink{}, false
	}
	if d.Site != u.cfg.Site || (d.Kiosk != "" && d.Kiosk != u.cfg.Kiosk) || topic != protocol.DownlinkTopic(d.Site, d.Kiosk, d.Kind) {
		// Signed by the hub, but not for this topic: a replay of another
		// site's or kiosk's message.
		u.stats.badMessages.Add(1)
		u.refused(topic, errMisaddressed)
		return protocol.Downlink{}, false
	}
	return d, true
}

var (
	errNotEnrolled  = errors.New("this kiosk is not enrolled, so it has no hub key to check downlinks by: it applies none (kiosk enroll)")
	errMisaddressed = errors.New("a signed downlink addressed to another site, kiosk or topic")
)

// refused logs a refused downlink, at most once per refusedLogEvery, with
// how many were refused since the last line: a flood of forgeries must
// not flood the log.
func (u *Uplink) refused(topic string, err error) {
	if n, ok := u.refusedLog.allow(u.clock.Now(), refusedLogEvery); ok {
		u.log.Warn("downlink refused: not applied, nothing of it stored", "topic", topic, "err", err,
			"refused_since_last_line", n, "refused_total", u.stats.downlinksRefused.Load())
	}
}

// refusedLogEvery is the shortest time between two log lines about
// refused downlinks.
const refusedLogEvery = time.Minute

// logLimit lets one log line through per interval and counts the others.
type logLimit struct {
	mu         sync.Mutex
	last       time.Time
	suppressed uint64
}

// allow reports whether a line may be logged now, and how many were held
// back before it.
func (l *logLimit) allow(now time.Time, every time.Duration) (held uint64, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.last.IsZero() && now.Sub(l.last) < every {
		l.suppressed++
		return 0, false
	}
	held, l.suppressed, l.last = l.suppressed, 0, now
	return held, true
}
