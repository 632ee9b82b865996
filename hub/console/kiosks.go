package console

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gatepost/gatepost/hub/downlink"
	"github.com/gatepost/gatepost/protocol"
)

type kiosksData struct {
	CanPublish bool // the console has a Publisher (it runs in `hub serve`)
	Connected  bool // and its MQTT client is connected now
	Sites      []siteConfig
	Form       configForm // the form's values after a refused post
	FeverMin   float64
	FeverMax   float64
}

// siteConfig is a site's configuration as published and as its kiosks
// report running it.
type siteConfig struct {
	Site      string
	Published *publishedConfig // for every kiosk of the site; nil if never
	Kiosks    []kioskConfig
}

type kioskConfig struct {
	Kiosk     string
	Online    bool
	Published *publishedConfig // for this kiosk alone; nil if never
	Want      uint64           // the highest version published to it, either way
	Runs      uint64           // the version it reports running
}

// Current reports whether the kiosk runs what was last published to it.
func (k kioskConfig) Current() bool { return k.Runs >= k.Want }

type publishedConfig struct {
	Version uint64
	FeverC  string // "" if the message leaves the kiosk's own
	Issued  time.Time
}

type configForm struct {
	Site, Kiosk, FeverC string
	Field               string // the field the refused post got wrong
}

func (o *Console) kiosksView(r *http.Request, v view, form configForm) (view, error) {
	d := kiosksData{CanPublish: o.cfg.Publisher != nil, Form: form,
		FeverMin: protocol.FeverMinC, FeverMax: protocol.FeverMaxC}
	if d.CanPublish {
		d.Connected = o.cfg.Publisher.BrokerConnected()
	}
	ks, err := o.rec.Kiosks(r.Context())
	if err != nil {
		return v, err
	}
	dls, err := o.rec.Downlinks(r.Context())
	if err != nil {
		return v, err
	}
	sites := map[string]*siteConfig{}
	site := func(name string) *siteConfig {
		if sites[name] == nil {
			sites[name] = &siteConfig{Site: name}
		}
		return sites[name]
	}
	byKiosk := map[[2]string]*publishedConfig{}
	for _, dl := range dls {
		if dl.Kind != protocol.DownlinkConfig {
			continue
		}
		p := &publishedConfig{Version: dl.Version, Issued: dl.Issued}
		if c, err := protocol.DecodeConfigPayload(dl.Payload); err == nil && c.FeverC != nil {
			p.FeverC = strconv.FormatFloat(*c.FeverC, 'f', -1, 64)
		}
		if dl.Kiosk == "" {
			site(dl.Site).Published = p
		} else {
			site(dl.Site)
			byKiosk[[2]string{dl.Site, dl.Kiosk}] = p
		}
	}
	for _, k := range ks {
		s := site(k.Site)
		kc := kioskConfig{Kiosk: k.Kiosk, Online: k.Online, Runs: k.Downlink[string(protocol.DownlinkConfig)],
			Published: byKiosk[[2]string{k.Site, k.Kiosk}]}
		if s.Published != nil {
			kc.Want = s.Published.Version
		}
		if kc.Published != nil {
			kc.Want = max(kc.Want, kc.Published.Version)
		}
		s.Kiosks = append(s.Kiosks, kc)
	}
	for _, s := range sites {
		d.Sites = append(d.Sites, *s)
	}
	slices.SortFunc(d.Sites, func(a, b siteConfig) int { return strings.Compare(a.Site, b.Site) })
	v.Data = d
	return v, nil
}

func (o *Console) serveKiosks(w http.ResponseWriter, r *http.Request) {
	v := view{}
	q := r.URL.Query()
	if n := q.Get("published"); n != "" {
		v.Notice = o.msg(r, "kiosks.published", q.Get("site"), n)
	} else if n := q.Get("stored"); n != "" {
		v.Notice = o.msg(r, "kiosks.stored", q.Get("site"), n)
	}
	v, err := o.kiosksView(r, v, configForm{})
	if err != nil {
		o.fail(w, "read the kiosks' configuration", err)
		return
	}
	o.render(w, r, http.StatusOK, "kiosks", v)
}

// publishConfig issues a new config version for a site or one kiosk from
// the form, after checking every field; nothing is stored or published
// for a refused form.
func (o *Console) publishConfig(w http.ResponseWriter, r *http.Request) {
	sess, _ := sessionFrom(r.Context())
	form := configForm{Site: r.PostFormValue("site"), Kiosk: r.PostFormValue("kiosk"),
		FeverC: strings.TrimSpace(r.PostFormValue("fever_c"))}
	refuse := func(status int, field, msg string) {
		form.Field = field
		v, err := o.kiosksView(r, view{Error: msg}, form)
		if err != nil {
			o.fail(w, "read the kiosks' configuration", err)
			return
		}
		o.render(w, r, status, "kiosks", v)
	}
	if o.cfg.Publisher == nil {
		refuse(http.StatusServiceUnavailable, "", o.msg(r, "kiosks.cannot"))
		return
	}
	known, err := o.rec.Kiosks(r.Context())
	if err != nil {
		o.fail(w, "read the kiosks", err)
		return
	}
	siteKnown, kioskKnown := false, form.Kiosk == ""
	for _, k := range known {
		siteKnown = siteKnown || k.Site == form.Site
		kioskKnown = kioskKnown || (k.Site == form.Site && k.Kiosk == form.Kiosk)
	}
	if !siteKnown {
		refuse(http.StatusBadRequest, "site", o.msg(r, "kiosks.err.site", form.Site))
		return
	}
	if !kioskKnown {
		refuse(http.StatusBadRequest, "kiosk", o.msg(r, "kiosks.err.kiosk", form.Kiosk, form.Site))
		return
	}
	fever, err := strconv.ParseFloat(form.FeverC, 64)
	if form.FeverC == "" || err != nil {
		refuse(http.StatusBadRequest, "fever_c", o.msg(r, "kiosks.err.fever_number", form.FeverC))
		return
	}
	payload, err := downlink.Config(fever)
	if err == nil {
		err = downlink.Check(form.Site, form.Kiosk, protocol.DownlinkConfig, payload)
	}
	var fe *protocol.FieldError
	if errors.As(err, &fe) && fe.Field == "fever_c" {
		refuse(http.StatusBadRequest, "fever_c", o.msg(r, "kiosks.err.fever_range", protocol.FeverMinC, protocol.FeverMaxC, form.FeverC))
		return
	}
	if err != nil {
		refuse(http.StatusBadRequest, "", o.msg(r, "err.bad_input")+err.Error())
		return
	}
	d, err := o.cfg.Publisher.PublishDownlink(r.Context(), form.Site, form.Kiosk, protocol.DownlinkConfig, payload)
	if err != nil && !errors.Is(err, downlink.ErrNotPublished) {
		o.fail(w, "publish the configuration", err)
		return
	}
	scope := form.Kiosk
	if scope == "" {
		scope = "*"
	}
	detail := fmt.Sprintf("site=%s kiosk=%s fever_c=%s version=%d", form.Site, scope,
		strconv.FormatFloat(fever, 'f', -1, 64), d.Version)
	next := "published"
	if err != nil {
		detail += " (stored; published when the hub reconnects)"
		next = "stored"
	}
	o.audit(r, sess.User.Name, "config_push", detail)
	http.Redirect(w, r, fmt.Sprintf("/ops/kiosks?%s=%d&site=%s", next, d.Version, url.QueryEscape(form.Site)), http.StatusSeeOther)
}
