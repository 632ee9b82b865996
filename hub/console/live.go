package console

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gatepost/gatepost/hub/operators"
	"github.com/gatepost/gatepost/hub/records"
)

// The live view: hub/alerts' follower hands the console each entry it
// reads (while anyone watches) and each alert it raises, and the console
// passes them on to every open /ops/events stream.

// Watching reports whether anyone follows the live view now.
func (o *Console) Watching() bool { return o.live.watched() }

// EntryReceived sends an entry to the live streams, masked.
func (o *Console) EntryReceived(e records.Stored) {
	r := masked(e)
	o.live.send(event{Name: "entry", site: e.Site, entry: &r})
}

// AlertRaised sends a new alert to the live streams.
func (o *Console) AlertRaised(a operators.Alert) {
	o.live.send(event{Name: "alert", site: a.Site, Data: map[string]any{"kind": a.Kind, "kiosk": a.Kiosk, "detail": a.Detail, "state": "open"}})
}

// liveEntry is an entry as the live feed sends it, labelled in lang.
func (o *Console) liveEntry(r row, lang string) map[string]any {
	return map[string]any{
		"received": r.Received.In(o.cfg.Zone).Format(time.DateTime), "site": r.Site, "kiosk": r.Kiosk, "seq": r.Seq,
		"kind": kindText(lang, r.Kind), "who": r.Who, "unit": r.Unit, "decision": decisionText(lang, r.Decision),
		"reasons": reasonsText(lang, r.Reasons), "urgent": r.Urgent,
	}
}

// event is one server-sent event: Data, or an entry that each stream
// labels in its reader's language.
type event struct {
	Name  string
	Data  any
	entry *row
	site  string // the compound it is about: a stream passes it on only within its reader's scope
}

// serveEvents is the live feed: new entries (masked) and alert changes.
func (o *Console) serveEvents(w http.ResponseWriter, r *http.Request) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	lang, sc := requestLang(r), scopeFrom(r.Context())
	ch, cancel := o.live.subscribe()
	defer cancel()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, ": live\n\n")
	flusher.Flush()
	keepAlive := o.clock.NewTicker(25 * time.Second)
	defer keepAlive.Stop()
	var id int
	for {
		select {
		case <-r.Context().Done():
			return
		case <-o.live.done:
			return
		case <-keepAlive.C():
			fmt.Fprint(w, ": keep-alive\n\n")
		case e := <-ch:
			if !sc.site(e.site) {
				continue
			}
			v := e.Data
			if e.entry != nil {
				v = o.liveEntry(*e.entry, lang)
			}
			data, err := json.Marshal(v)
			if err != nil {
				continue
			}
			id++
			// JSON has no raw newlines, so one data line is the whole event.
			fmt.Fprintf(w, "id: %s\nevent: %s\ndata: %s\n\n", strconv.Itoa(id), e.Name, data)
		}
		flusher.Flush()
	}
}
