package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"

	"github.com/gatepost/gatepost/internal/backoff"
	"github.com/gatepost/gatepost/internal/doctor"
	"github.com/gatepost/gatepost/kiosk/config"
	"github.com/gatepost/gatepost/kiosk/enrollment"
	"github.com/gatepost/gatepost/kiosk/gate"
	"github.com/gatepost/gatepost/kiosk/journal"
	"github.com/gatepost/gatepost/kiosk/passcheck"
	"github.com/gatepost/gatepost/kiosk/screen"
	"github.com/gatepost/gatepost/protocol"
)

// The doctor's checks of the kiosk's link to the hub: the broker, the
// sync position, the keys and status list the hub sent.

// checkBroker asks a running kiosk whether its link is up; without one,
// it logs in to the broker as the kiosk would, TLS verified against the
// enrollment's CA.
func checkBroker(ctx context.Context, r *doctor.Report, a protocol.EnrollAnswer, st screen.State, running bool) {
	fixNet := [2]string{"检查网络和中心地址；中心是否在运行", "check the network and the hub's address, and that the hub runs"}
	if running {
		if st.Online {
			r.OK("broker", "the running kiosk is connected to "+a.Broker)
		} else {
			r.Fail("broker", "the running kiosk is not connected to "+a.Broker, fixNet[0], fixNet[1])
		}
		return
	}
	u, err := url.Parse(a.Broker)
	if err != nil {
		r.Fail("broker", err.Error(), "重新登记", "enroll again")
		return
	}
	var tc *tls.Config
	if backoff.SchemeTLS(u.Scheme) {
		if tc, err = enrollment.TLSConfig(a, u.Hostname()); err == nil {
			err = tlsHandshake(ctx, u.Host, tc)
		}
		var verr *tls.CertificateVerificationError
		if errors.As(err, &verr) {
			r.Fail("broker", "TLS not verified: "+err.Error(), "中心的证书不是登记时的那一张：重新登记", "the hub's certificate is not the one enrolled with: enroll again")
			return
		}
		if err != nil {
			r.Fail("broker", err.Error(), fixNet[0], fixNet[1])
			return
		}
	}
	mqttLogin(r, a, tc)
}

func tlsHandshake(ctx context.Context, addr string, tc *tls.Config) error {
	ctx, cancel := context.WithTimeout(ctx, doctorTimeout)
	defer cancel()
	d := tls.Dialer{NetDialer: &net.Dialer{}, Config: tc}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	return c.Close()
}

// mqttLogin logs in as the kiosk (its username as the client id, as the
// closed broker requires) and out again. Only when the kiosk is not
// running: a login under its id would take over its connection.
func mqttLogin(r *doctor.Report, a protocol.EnrollAnswer, tc *tls.Config) {
	o := mqtt.NewClientOptions().AddBroker(a.Broker).SetClientID(a.Username).
		SetUsername(a.Username).SetPassword(a.Secret).SetCleanSession(true).
		SetAutoReconnect(false).SetConnectRetry(false).SetConnectTimeout(doctorTimeout)
	if tc != nil {
		o.SetTLSConfig(tc)
	}
	c := mqtt.NewClient(o)
	tok := c.Connect()
	if !tok.WaitTimeout(doctorTimeout + time.Second) {
		r.Fail("broker", "no answer from "+a.Broker, "检查网络和中心地址；中心是否在运行", "check the network and the hub's address, and that the hub runs")
		return
	}
	if err := tok.Error(); err != nil {
		if errors.Is(err, packets.ErrorRefusedNotAuthorised) || errors.Is(err, packets.ErrorRefusedBadUsernameOrPassword) {
			r.Fail("broker", "the broker refused the kiosk's login: "+err.Error(),
				"此闸机已被停用或重新登记过：在中心重新登记", "the kiosk was retired or enrolled again elsewhere: enroll it again at the hub")
			return
		}
		r.Fail("broker", err.Error(), "检查网络和中心地址；中心是否在运行", "check the network and the hub's address, and that the hub runs")
		return
	}
	c.Disconnect(100)
	r.OK("broker", fmt.Sprintf("logged in to %s as %s", a.Broker, a.Username))
}

// checkSync warns when entries have waited long for the hub's ack.
func checkSync(ctx context.Context, r *doctor.Report, j *journal.Journal, now time.Time) {
	st, err := j.Status(ctx)
	if err != nil {
		r.Fail("sync", err.Error(), "检查日志文件", "check the journal")
		return
	}
	if st.Unsynced == 0 {
		r.OK("sync", fmt.Sprintf("every entry acknowledged by the hub (%d)", st.AckedSeq))
		return
	}
	waited := time.Duration(0)
	switch {
	case st.LastAck != nil:
		waited = now.Sub(*st.LastAck)
	case st.OldestUnsynced != nil:
		waited = now.Sub(*st.OldestUnsynced)
	}
	found := fmt.Sprintf("%d entries unsynced; last ack %s ago", st.Unsynced, waited.Round(time.Second))
	if st.LastAck == nil {
		found = fmt.Sprintf("%d entries unsynced; the hub never acknowledged one", st.Unsynced)
	}
	if waited > ackOld || st.LastAck == nil {
		r.Warn("sync", found, "检查与中心的连接（见 broker 一行）；记录保存在本机，连上后会补传",
			"check the link to the hub (the broker line); entries are kept here and sent once it is back")
		return
	}
	r.OK("sync", found)
}

// checkPasses checks the keys and the status list the gate checks passes with.
func checkPasses(ctx context.Context, r *doctor.Report, cfg config.Config, j *journal.Journal, now func() time.Time) {
	src := gate.NewPassSource(cfg, j)
	v := passcheck.New(cfg.Site, src, now,
		passcheck.Options{MaxAge: cfg.Passes.MaxAge.D(), Skew: cfg.Passes.ClockSkew.D()})
	keys, list, stale, err := v.State(ctx)
	found := fmt.Sprintf("keys version %d%s, status list version %d%s, stale %v",
		keys, issuedAgo(ctx, src, passcheck.KindKeys, now()), list, issuedAgo(ctx, src, passcheck.KindStatusList, now()), stale)
	switch {
	case err != nil:
		r.Fail("passes", err.Error(), "检查 passes_dir 中的文件", "check the files in passes_dir")
	case keys == 0 && cfg.Rules.RequirePass:
		r.Fail("passes", found+": no keys, no pass can be checked", "连上中心以接收密钥，或把中心导出的密钥放入 "+cfg.PassesDir(),
			"connect to the hub to receive its keys, or copy the hub's export into "+cfg.PassesDir())
	case stale:
		r.Warn("passes", found, "通行名单过期：检查与中心的连接", "the status list is out of date: check the link to the hub")
	default:
		r.OK("passes", found)
	}
}

// issuedAgo is " (issued D ago)" for the kind's payload in use, or "" if
// there is none or it does not decode.
func issuedAgo(ctx context.Context, src passcheck.Source, kind string, now time.Time) string {
	raw, err := src.Latest(ctx, kind)
	if err != nil || raw == nil {
		return ""
	}
	var issued time.Time
	switch kind {
	case passcheck.KindKeys:
		ks, err := protocol.DecodeKeySet(raw)
		if err != nil {
			return ""
		}
		issued = ks.Issued
	default:
		l, err := protocol.DecodeStatusList(raw)
		if err != nil {
			return ""
		}
		issued = l.Issued
	}
	return fmt.Sprintf(" (issued %s ago)", now.Sub(issued).Round(time.Minute))
}
