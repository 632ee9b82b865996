package screen

import (
	"encoding/json"
	"fmt"
	"io/fs"
)

// Languages are the page's languages, the first the default.
var Languages = []string{"zh-CN", "en"}

// catalogues are the page's messages by language, read once from the
// embedded assets/i18n/<lang>.json (the page fetches the same files).
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

// MessageIn is the catalogue's message key in lang, or the key itself when
// missing (a test keeps that from happening).
func MessageIn(lang, key string) string {
	if m, ok := catalogues[lang][key]; ok {
		return m
	}
	return key
}
