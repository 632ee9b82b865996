package testkit

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// StringsInCode is every string literal with prefix (and more after it)
// in the Go code, not the tests, of the package in the current directory:
// the package under test. Tests use it to hold each catalogue key the
// code names (say_, uplink_) to the catalogues.
func StringsInCode(tb testing.TB, prefix string) map[string]bool {
	tb.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		tb.Fatal(err)
	}
	found := map[string]bool{}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			tb.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if s, err := strconv.Unquote(lit.Value); err == nil && strings.HasPrefix(s, prefix) && s != prefix {
					found[s] = true
				}
			}
			return true
		})
	}
	return found
}
