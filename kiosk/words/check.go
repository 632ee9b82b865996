package words

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// The packages that name catalogue keys in their code (checkpoint,
// uplink) hold those keys to the catalogues in their tests with these.

// MissingKeys is a sentence for each key a catalogue lacks or has blank,
// nil when every catalogue has every key.
func MissingKeys(keys []string) []string { return missingKeys(catalogues, keys) }

// UnevenPlaceholders is a sentence for each key whose {placeholders}
// differ between the catalogues, nil when none do. Not every key must
// pass: a catalogue may say less than another (the uplink's Chinese
// problems leave out the numbers).
func UnevenPlaceholders(keys []string) []string { return unevenPlaceholders(catalogues, keys) }

func missingKeys(cats map[string]map[string]string, keys []string) []string {
	var problems []string
	for _, key := range keys {
		for _, lang := range Languages {
			if s, ok := cats[lang][key]; !ok || s == key || strings.TrimSpace(s) == "" {
				problems = append(problems, fmt.Sprintf("catalogue %s lacks %s", lang, key))
			}
		}
	}
	return problems
}

// placeholder is a {name} a Sentence fills in.
var placeholder = regexp.MustCompile(`\{[a-z]+\}`)

func unevenPlaceholders(cats map[string]map[string]string, keys []string) []string {
	var problems []string
	for _, key := range keys {
		holes := make([]string, len(Languages))
		for i, lang := range Languages {
			h := placeholder.FindAllString(cats[lang][key], -1)
			slices.Sort(h)
			holes[i] = strings.Join(slices.Compact(h), " ")
		}
		for i, lang := range Languages[1:] {
			if holes[i+1] != holes[0] {
				problems = append(problems, fmt.Sprintf("%s: placeholders %q in %s, %q in %s", key, holes[0], Languages[0], holes[i+1], lang))
			}
		}
	}
	return problems
}
