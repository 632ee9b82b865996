package uplink

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gatepost/gatepost/kiosk/words"
)

// Every sentence the uplink shows the guard (uplink_ keys in its code) is
// in both of the screen's catalogues.
func TestProblemsAreInTheCatalogues(t *testing.T) {
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
				if s, err := strconv.Unquote(lit.Value); err == nil && strings.HasPrefix(s, "uplink_") {
					keys[s] = true
				}
			}
			return true
		})
	}
	if len(keys) < 3 {
		t.Fatalf("found uplink_ keys %v, want the three problems of a replaced journal", keys)
	}
	for k := range keys {
		for _, lang := range words.Languages {
			if s := words.MessageIn(lang, k); s == k || s == "" {
				t.Errorf("catalogue %s lacks %s", lang, k)
			}
		}
	}
}
