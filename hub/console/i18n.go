package console

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/gatepost/gatepost/protocol"
	"github.com/gatepost/gatepost/protocol/text"
)

// Languages the console speaks; the first is the default: Chinese first.
var languages = []string{"zh-CN", "en"}

// catalogue maps a message key to its text in one language.
type catalogue map[string]string

// loadCatalogues reads the embedded catalogues and checks that every
// language has every key, so a missing translation fails at start, not
// on an operator's screen.
func loadCatalogues() (map[string]catalogue, error) {
	out := map[string]catalogue{}
	for _, lang := range languages {
		data, err := assets.ReadFile("assets/messages/" + lang + ".json")
		if err != nil {
			return nil, fmt.Errorf("messages %s: %w", lang, err)
		}
		var c catalogue
		if err := json.Unmarshal(data, &c); err != nil {
			return nil, fmt.Errorf("messages %s: %w", lang, err)
		}
		out[lang] = c
	}
	for key := range out[languages[0]] {
		for _, lang := range languages[1:] {
			if _, ok := out[lang][key]; !ok {
				return nil, fmt.Errorf("messages %s: no %q", lang, key)
			}
		}
	}
	return out, nil
}

// langCookie holds the operator's language choice.
const langCookie = "gp_lang"

func requestLang(r *http.Request) string {
	if c, err := r.Cookie(langCookie); err == nil {
		for _, l := range languages {
			if c.Value == l {
				return l
			}
		}
	}
	return languages[0]
}

// Words for the protocol's codes come from protocol/text, the catalogue
// the guard's screen reads too, so a code reads the same at the gate and
// at the hub.

func kindText(lang string, k protocol.Kind) string { return text.Kind(lang, string(k)) }

func decisionText(lang string, d protocol.Decision) string { return text.Decision(lang, string(d)) }

// reasonsText is an entry's reasons in lang, most important first.
func reasonsText(lang string, reasons []string) string {
	words := make([]string, len(reasons))
	for i, r := range reasons {
		words[i] = text.Reason(lang, r)
	}
	sep := ", "
	if lang == "zh-CN" {
		sep = "、" // the enumeration comma
	}
	return strings.Join(words, sep)
}
