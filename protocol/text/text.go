// Package text holds the words people read for the protocol's codes: each
// reason, disinfection area, decision and entry kind, in Chinese (zh-CN,
// first and the fallback) and English. The guard's screen and the
// operators' console both take their labels from here, so a code reads the
// same at the gate and at the hub.
//
// Both programs may import text; it imports only protocol. The screen's
// and the console's own sentences stay in their own catalogues.
package text

import (
	"embed"
	"encoding/json"
	"fmt"
)

//go:embed zh-CN.json en.json
var files embed.FS

// Languages are the catalogues, the first the fallback.
var Languages = []string{"zh-CN", "en"}

var catalogues = func() map[string]map[string]string {
	m := map[string]map[string]string{}
	for _, lang := range Languages {
		b, err := files.ReadFile(lang + ".json")
		if err != nil {
			panic(fmt.Sprintf("text: %s catalogue missing: %v", lang, err))
		}
		c := map[string]string{}
		if err := json.Unmarshal(b, &c); err != nil {
			panic(fmt.Sprintf("text: %s catalogue: %v", lang, err))
		}
		m[lang] = c
	}
	return m
}()

// Catalogue returns every key and its words in lang (nil for a language
// we do not have), for pages that render labels in the browser.
func Catalogue(lang string) map[string]string { return catalogues[lang] }

func lookup(lang, key string) (string, bool) {
	if s, ok := catalogues[lang][key]; ok {
		return s, true
	}
	s, ok := catalogues[Languages[0]][key]
	return s, ok
}

// Reason is the words for a reason code in lang; a code this build does
// not know (a newer kiosk's) is shown as it is.
func Reason(lang, code string) string { return label(lang, "reason.", code) }

// Area is the words for a disinfection area code in lang.
func Area(lang, code string) string { return label(lang, "area.", code) }

// Decision is the words for a decision in lang.
func Decision(lang, d string) string { return label(lang, "decision.", d) }

// Kind is the words for an entry kind in lang.
func Kind(lang, k string) string { return label(lang, "kind.", k) }

// Alert is the words for an alert kind in lang. Only the kinds raised by
// the hub's ingest have words here so far (protocol.AlertRefused); any
// other is shown as it is.
func Alert(lang, kind string) string { return label(lang, "alert.", kind) }

// Refusal is the words for a reason the hub refused a kiosk's message
// (protocol.RefusalReasons) in lang.
func Refusal(lang, reason string) string { return label(lang, "refused.", reason) }

func label(lang, prefix, code string) string {
	if s, ok := lookup(lang, prefix+code); ok {
		return s
	}
	return code
}
