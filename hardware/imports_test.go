package hardware

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/gatepost/gatepost"

// allowedThirdParty lists the only modules hardware/ may use besides the
// standard library. Adding one is a decision, so it is a test edit.
var allowedThirdParty = []string{
	"go.bug.st/serial",
	"github.com/creack/pty",
	"golang.org/x/term",
	"go.uber.org/goleak",
}

// allowedOfOurs are the only packages of gatepost outside hardware/ that
// hardware/ may use: leaf packages that import nothing of ours (the root
// import test holds the same rule).
var allowedOfOurs = []string{"internal/clock", "internal/backoff"}

// TestImports guards the dependency direction: hardware/ imports the
// standard library, a short list of device libraries, itself and the
// leaf packages in allowedOfOurs, never the rest of gatepost.
func TestImports(t *testing.T) {
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "testdata" {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, spec := range f.Imports {
			imp, err := strconv.Unquote(spec.Path.Value)
			if err != nil {
				return err
			}
			if !importAllowed(imp) {
				t.Errorf("%s imports %q: hardware/ may import only the standard library, %v, %s/hardware/... and %v", path, imp, allowedThirdParty, module, allowedOfOurs)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func importAllowed(imp string) bool {
	if !strings.Contains(strings.Split(imp, "/")[0], ".") {
		return true // standard library
	}
	if imp == module+"/hardware" || strings.HasPrefix(imp, module+"/hardware/") {
		return true
	}
	for _, leaf := range allowedOfOurs {
		if imp == module+"/"+leaf {
			return true
		}
	}
	for _, m := range allowedThirdParty {
		if imp == m || strings.HasPrefix(imp, m+"/") {
			return true
		}
	}
	return false
}
