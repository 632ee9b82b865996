package uplink

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatepost/gatepost/internal/testkit"
	"github.com/gatepost/gatepost/kiosk/enrollment/enrollmenttest"
	"github.com/gatepost/gatepost/protocol"
	"github.com/gatepost/gatepost/protocol/protocoltest"
)

// countRefusals is a log handler that counts the lines about refused
// downlinks.
type countRefusals struct{ n *atomic.Int64 }

func (h countRefusals) Enabled(context.Context, slog.Level) bool { return true }
func (h countRefusals) Handle(_ context.Context, r slog.Record) error {
	if strings.HasPrefix(r.Message, "downlink refused") {
		h.n.Add(1)
	}
	return nil
}
func (h countRefusals) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h countRefusals) WithGroup(string) slog.Handler      { return h }

func config(version uint64, fever string) protocol.Downlink {
	return protocol.Downlink{Kind: protocol.DownlinkConfig, Site: "site-1", Version: version, Issued: protocoltest.T0,
		Payload: json.RawMessage(`{"fever_c":` + fever + `}`)}
}

// Only a downlink signed with the pinned key is stored and applied. A
// forged one (another key), an unsigned one and one the hub signed for
// another purpose are refused and counted, and their higher versions are
// never stored, so the hub's real pushes still win. A flood of forgeries
// is logged in one line, not one per message.
func TestOnlySignedDownlinksApplied(t *testing.T) {
	broker := testkit.StartBroker(t).URL
	pub := listen(t, broker, "", nil)
	hubKey := enrollmenttest.DownlinkKey()
	forger := ed25519.NewKeyFromSeed([]byte(strings.Repeat("f", ed25519.SeedSize)))
	publish := func(retained bool, payload []byte) {
		t.Helper()
		tok := pub.Publish(protocol.DownlinkTopic("site-1", "", protocol.DownlinkConfig), 1, retained, payload)
		if !tok.WaitTimeout(testkit.Wait) || tok.Error() != nil {
			t.Fatal(tok.Error())
		}
	}
	forged, _ := protocol.SignDownlink(config(500, "40"), forger)
	unsigned, _ := protocol.EncodeDownlink(config(501, "40"))
	body, _ := protocol.EncodeDownlink(config(502, "40"))
	otherPurpose, _ := protocol.Sign(protocol.PurposeAck, hubKey, body)
	real, _ := protocol.SignDownlink(config(3, "37.5"), hubKey)

	var logged atomic.Int64
	var applied atomic.Uint64
	j := openJournal(t)
	u := New(Config{Broker: broker, Site: "site-1", Kiosk: "gate-1", BatchSize: 10, MaxInFlight: 1, AckTimeout: time.Minute,
		DownlinkKey: hubKey.Public().(ed25519.PublicKey), OnDownlink: func(d protocol.Downlink) { applied.Store(d.Version) }},
		j, slog.New(countRefusals{&logged}))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); u.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	testkit.Eventually(t, "online", u.Online)

	for _, p := range [][]byte{forged, unsigned, otherPurpose} {
		publish(false, p)
	}
	for range 50 {
		publish(false, forged)
	}
	publish(true, real)
	testkit.Eventually(t, "the signed config applied", func() bool { return applied.Load() == 3 })
	testkit.Eventually(t, "53 refusals counted", func() bool { return u.Stats().DownlinksRefused == 53 })
	if v, p, err := j.Downlink(context.Background(), protocol.DownlinkConfig); v != 3 || err != nil || string(p) != `{"fever_c":37.5}` {
		t.Errorf("journal holds config v%d %s (%v), want the signed v3 alone", v, p, err)
	}
	if n := logged.Load(); n != 1 {
		t.Errorf("%d log lines for 53 refused downlinks, want 1 (rate-limited)", n)
	}
	if st := u.Stats(); st.Downlinks != 1 || st.BadMessages != 0 {
		t.Errorf("Stats = %+v, want one downlink stored", st)
	}
}

// A kiosk that is not enrolled has no key to check by: it applies no
// downlink, even one the hub signed, and counts each.
func TestUnenrolledKioskAppliesNoDownlink(t *testing.T) {
	broker := testkit.StartBroker(t).URL
	pub := listen(t, broker, "", nil)
	real, _ := protocol.SignDownlink(config(3, "37.5"), enrollmenttest.DownlinkKey())
	tok := pub.Publish(protocol.DownlinkTopic("site-1", "", protocol.DownlinkConfig), 1, true, real)
	if !tok.WaitTimeout(testkit.Wait) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	j := openJournal(t)
	u := runUplink(t, broker, j, 10)
	testkit.Eventually(t, "the downlink refused", func() bool { return u.Stats().DownlinksRefused == 1 })
	if vs, _ := j.Downlinks(context.Background()); len(vs) != 0 {
		t.Errorf("an unenrolled kiosk stored downlinks %v", vs)
	}
}

func TestLogLimit(t *testing.T) {
	var l logLimit
	t0 := time.Unix(1000, 0)
	if _, ok := l.allow(t0, time.Minute); !ok {
		t.Fatal("the first line was held back")
	}
	for i := range 5 {
		if _, ok := l.allow(t0.Add(time.Duration(i)*time.Second), time.Minute); ok {
			t.Fatalf("line %d within the minute was let through", i)
		}
	}
	if held, ok := l.allow(t0.Add(time.Minute), time.Minute); !ok || held != 5 {
		t.Fatalf("after a minute: allow = %d, %v; want through, 5 held back", held, ok)
	}
}

// Whatever arrives on a downlink topic, openDownlink accepts only what
// the pinned key signed, for this kiosk, on the topic it names.
func FuzzOpenDownlink(f *testing.F) {
	key := enrollmenttest.DownlinkKey()
	signed, _ := protocol.SignDownlink(config(3, "37.5"), key)
	unsigned, _ := protocol.EncodeDownlink(config(3, "37.5"))
	site := protocol.DownlinkTopic("site-1", "", protocol.DownlinkConfig)
	f.Add(site, signed)
	f.Add(site, unsigned)
	f.Add(protocol.DownlinkTopic("site-1", "gate-1", protocol.DownlinkKeys), signed)
	f.Add(site, []byte(`{"purpose":"downlink","key":"x","sig":"","body":{}}`))
	u := New(Config{Site: "site-1", Kiosk: "gate-1", DownlinkKey: key.Public().(ed25519.PublicKey)}, nil, slog.New(slog.DiscardHandler))
	f.Fuzz(func(t *testing.T, topic string, payload []byte) {
		d, ok := u.openDownlink(topic, payload)
		if !ok {
			return
		}
		if _, err := protocol.OpenDownlink(payload, key.Public().(ed25519.PublicKey)); err != nil {
			t.Fatalf("accepted a downlink that does not verify: %v", err)
		}
		if d.Site != "site-1" || (d.Kiosk != "" && d.Kiosk != "gate-1") || topic != protocol.DownlinkTopic(d.Site, d.Kiosk, d.Kind) {
			t.Fatalf("accepted %+v on %q", d, topic)
		}
	})
}
