// Package words is the kiosk's catalogue of what people read: every
// sentence and label of the guard's screen, in Chinese (zh-CN, first and
// the fallback) and English, keyed by name. The rules' lines (say_ keys,
// by reason), the uplink's problems (uplink_), the gate's own sentences
// (gate_) and the page's labels all live here, with the words for the
// protocol's codes (area_<code>) taken from protocol/text so a code reads
// the same at the gate and at the hub. Sentence is the one place a key
// and its arguments become words; MissingKeys and UnevenPlaceholders hold
// the keys a package names to the catalogues.
//
// The kiosk's packages import words (checkpoint, uplink, gate, screen);
// it imports protocol and protocol/text.
package words

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gatepost/gatepost/protocol"
	"github.com/gatepost/gatepost/protocol/text"
)

//go:embed i18n
var files embed.FS

// Languages are the catalogues, the first the default.
var Languages = []string{"zh-CN", "en"}

// catalogues are the messages by language, read once from the embedded
// i18n/<lang>.json, with the words for the codes the page shows.
var catalogues = load()

func load() map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, lang := range Languages {
		// The files are embedded at build time: a broken one is a build
		// mistake that TestCatalogues catches; MessageIn then falls back
		// to the key rather than stopping the gate.
		m, err := read(files, lang)
		if err != nil {
			m = map[string]string{}
		}
		for _, code := range protocol.Areas {
			m["area_"+code] = label(text.Area(lang, code))
		}
		out[lang] = m
	}
	return out
}

func read(fsys fs.FS, lang string) (map[string]string, error) {
	data, err := fs.ReadFile(fsys, "i18n/"+lang+".json")
	if err != nil {
		return nil, fmt.Errorf("catalogue %s: %w", lang, err)
	}
	var m map[string]string
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("catalogue %s: %w", lang, err)
	}
	return m, nil
}

// label is words made a button's label: the first letter a capital.
func label(words string) string {
	r, n := utf8.DecodeRuneInString(words)
	return string(unicode.ToUpper(r)) + words[n:]
}

// Catalogue is every message in lang (nil for a language we lack), as the
// guard's page loads it.
func Catalogue(lang string) map[string]string { return catalogues[lang] }

// MessageIn is the message key in lang, or the key itself when missing (a
// test keeps that from happening).
func MessageIn(lang, key string) string {
	if m, ok := catalogues[lang][key]; ok {
		return m
	}
	return key
}

// Sentence is the message key in lang with each {name} in it replaced by
// args[name].
func Sentence(lang, key string, args map[string]string) string {
	s := MessageIn(lang, key)
	if len(args) == 0 {
		return s
	}
	pairs := make([]string, 0, 2*len(args))
	for name, v := range args {
		pairs = append(pairs, "{"+name+"}", v)
	}
	return strings.NewReplacer(pairs...).Replace(s)
}

// Both is the sentence in every language, Chinese first, for places that
// show both (the guard's screen, the journal's log, `kiosk status`).
func Both(key string, args map[string]string) string {
	out := make([]string, 0, len(Languages))
	for _, lang := range Languages {
		if s := Sentence(lang, key, args); s != "" {
			out = append(out, s)
		}
	}
	return strings.Join(out, " ")
}
