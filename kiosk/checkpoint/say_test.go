package checkpoint

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gatepost/gatepost/kiosk/passcheck"
	"github.com/gatepost/gatepost/kiosk/words"
	"github.com/gatepost/gatepost/protocol"
)

// keysInSource returns every string literal of this package's code (not
// its tests) that looks like a catalogue key with prefix.
func keysInSource(t *testing.T, prefix string) map[string]bool {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if s, err := strconv.Unquote(lit.Value); err == nil && strings.HasPrefix(s, prefix) && s != prefix {
					keys[s] = true
				}
			}
			return true
		})
	}
	return keys
}

// Every key checkpoint can produce is in both catalogues: the keys
// written in its code, and those made from a pass verdict's reason.
func TestEveryLineIsInTheCatalogues(t *testing.T) {
	keys := keysInSource(t, "say_")
	if len(keys) < 30 {
		t.Fatalf("found %d say_ keys in the source, want the ~45 sentences of the rules", len(keys))
	}
	for _, v := range []passcheck.Verdict{passcheck.Valid, passcheck.NotAPass, passcheck.Malformed, passcheck.UnknownVersion,
		passcheck.UnknownKey, passcheck.KeyRetired, passcheck.Forged, passcheck.WrongSite, passcheck.Revoked,
		passcheck.NotYetValid, passcheck.Expired, passcheck.HomeObservation, "a verdict of a newer build"} {
		keys["say_"+PassReason(v)] = true
	}
	placeholder := regexp.MustCompile(`\{[a-z]+\}`)
	for key := range keys {
		holes := map[string]string{}
		for _, lang := range words.Languages {
			s := words.MessageIn(lang, key)
			if s == key || strings.TrimSpace(s) == "" {
				t.Errorf("catalogue %s lacks %s", lang, key)
			}
			h := placeholder.FindAllString(s, -1)
			slices.Sort(h)
			holes[lang] = strings.Join(slices.Compact(h), " ")
		}
		if holes["zh-CN"] != holes["en"] {
			t.Errorf("%s: placeholders %q in zh-CN, %q in en", key, holes["zh-CN"], holes["en"])
		}
	}
}

// Every pass verdict's reason is a protocol reason code.
func TestPassReasonsAreProtocolCodes(t *testing.T) {
	for _, v := range []passcheck.Verdict{passcheck.Valid, passcheck.Forged, passcheck.HomeObservation, "new"} {
		r := PassReason(v)
		found := false
		for _, code := range protocol.Reasons {
			found = found || code == r
		}
		if !found {
			t.Errorf("PassReason(%q) = %q, not in protocol.Reasons", v, r)
		}
	}
}

// A line renders with its values in place, in each language, and an area
// in the reader's words.
func TestLineIn(t *testing.T) {
	l := say("say_disinfected", Arg{Name: "area", Area: protocol.AreaDropPoint}, arg("name", "李*"))
	if got, want := l.In("zh-CN"), "已记录：快递投放点 已消毒（李*）。"; got != want {
		t.Errorf("In(zh-CN) = %q, want %q", got, want)
	}
	if got, want := l.In("en"), "Recorded: the parcel drop point disinfected (李*)."; got != want {
		t.Errorf("In(en) = %q, want %q", got, want)
	}
	m := say("say_visitor_incomplete", Arg{Name: "missing", Keys: []string{"say_missing_name", "say_missing_purpose"}})
	if got, want := Render([]Line{m}), (Say{"请补全登记：姓名、事由。", "Registration incomplete: name, purpose."}); got != want {
		t.Errorf("Render = %+v, want %+v", got, want)
	}
}
