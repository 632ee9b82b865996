package gatepost

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/gatepost/gatepost"

// allowed says which of our own trees a tree may import. Dependencies
// point one way: protocol and hardware import nothing of ours beyond
// themselves, and the two programs never import each other.
var allowed = map[string][]string{
	"protocol": {"protocol"},
	"internal": {"internal", "protocol"},                           // the clock, and test helpers: need, testkit
	"hardware": {"hardware", "internal/clock", "internal/backoff"}, // leaf packages that import nothing of ours
	"kiosk":    {"kiosk", "protocol", "hardware", "internal"},
	"hub":      {"hub", "protocol", "internal"},
	"demo":     {"demo", "kiosk", "hub", "protocol", "hardware", "internal"},
	"e2e":      {"e2e", "kiosk", "hub", "protocol", "hardware", "internal"},
	"bench":    {"bench", "kiosk", "hub", "protocol", "internal"},
	"tools":    {"tools", "internal"}, // build tools: they run the programs, never import them; tests use internal/need
}

func tree(importPath string) string {
	rest := strings.TrimPrefix(strings.TrimPrefix(importPath, module), "/")
	top, _, _ := strings.Cut(rest, "/")
	return top
}

// pkg is one of our packages as go list sees it.
type pkg struct {
	ImportPath                         string
	Imports, TestImports, XTestImports []string
}

// rel is the path of p inside the module ("" for the root package).
func (p pkg) rel() string { return strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/") }

// ours lists the module's packages p imports, tests included, as paths
// inside the module.
func (p pkg) ours() []string {
	return oursOf(append(append(p.Imports, p.TestImports...), p.XTestImports...))
}

// oursNotTests lists the module's packages p's own code imports.
func (p pkg) oursNotTests() []string { return oursOf(p.Imports) }

func oursOf(imports []string) []string {
	var out []string
	for _, imp := range imports {
		if rel, ok := strings.CutPrefix(imp, module+"/"); ok {
			out = append(out, rel)
		}
	}
	return out
}

// packages lists every package of the module.
func packages(t *testing.T) []pkg {
	t.Helper()
	out, err := exec.Command("go", "list", "-e", "-json=ImportPath,Imports,TestImports,XTestImports", module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var all []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		all = append(all, p)
	}
	if len(all) < 5 {
		t.Fatalf("go list found only %d packages: the listing is wrong", len(all))
	}
	return all
}

func TestImportGraphPointsOneWay(t *testing.T) {
	for _, p := range packages(t) {
		from := tree(p.ImportPath)
		if from == "" { // this root package
			continue
		}
		may, known := allowed[from]
		if !known {
			t.Errorf("%s: top-level folder %q has no import rule: add it to allowed", p.ImportPath, from)
			continue
		}
		for _, rel := range p.ours() {
			ok := false
			for _, m := range may { // a rule names a tree, or one package or folder in it
				ok = ok || rel == m || strings.HasPrefix(rel, m+"/")
			}
			if !ok {
				t.Errorf("%s imports %s: %s may import only %v of ours", p.rel(), rel, from, may)
			}
		}
	}
}
