package screen

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gatepost/gatepost/protocol"
	"github.com/gatepost/gatepost/protocol/text"
)

// Languages are the page's languages, the first the default.
var Languages = []string{"zh-CN", "en"}

// catalogues are the page's messages by language, read once from the
// embedded assets/i18n/<lang>.json, with the words for the codes the page
// shows (disinfection areas: area_<code>) from protocol/text, so that a
// code reads the same at the gate and at the hub. The page fetches them
// as /assets/i18n/<lang>.json (serveCatalogue).
var catalogues = loadCatalogues()

func loadCatalogues() map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, lang := range Languages {
		// The files are embedded at build time: a broken one is a build
		// mistake that TestCatalogues catches; MessageIn then falls back
		// to the key rather than stopping the gate.
		m, err := readCatalogue(assets, lang)
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

func readCatalogue(fsys fs.FS, lang string) (map[string]string, error) {
	data, err := fs.ReadFile(fsys, "assets/i18n/"+lang+".json")
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

// serveCatalogue serves /assets/i18n/<lang>.json: the catalogue as the
// page reads it.
func serveCatalogue(w http.ResponseWriter, r *http.Request) {
	lang, ok := strings.CutSuffix(r.PathValue("file"), ".json")
	m, known := catalogues[lang]
	if !ok || !known {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	json.NewEncoder(w).Encode(m)
}

// MessageIn is the catalogue's message key in lang, or the key itself when
// missing (a test keeps that from happening).
func MessageIn(lang, key string) string {
	if m, ok := catalogues[lang][key]; ok {
		return m
	}
	return key
}

// Sentence is the message key in lang with each {name} in it replaced by
// args[name]: the one place where the kiosk's sentences for the guard
// (checkpoint's lines, the uplink's problems) are put into words.
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
