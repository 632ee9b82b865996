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

// TestImports guards the dependency direction: hardware/ imports the
// standard library, a short list of device libraries, itself and the
// leaf packages internal/clock and internal/backoff, never the rest of
// gatepost.
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
				t.Errorf("%s imports %q: hardware/ may import only the standard library, %v and %s/hardware/...", path, imp, allowedThirdParty, module)
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
	// The leaf packages that import nothing of ours: the one clock and
	// the one reconnect back-off (hardware/device reopens with them).
	if imp == module+"/internal/clock" || imp == module+"/internal/backoff" {
		return true
	}
	for _, m := range allowedThirdParty {
		if imp == m || strings.HasPrefix(imp, m+"/") {
			return true
		}
	}
	return false
}
