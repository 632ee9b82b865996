// Package need is for tests that run an outside program (mosquitto,
// zbarimg, chromium): it finds the program, skips the test when it is
// missing on a developer's machine, and fails it under CI, where every
// program the tests need must be installed (./test.sh installs them).
package need

import (
	"os"
	"os/exec"
	"testing"
)

// Program returns the path of the program name, which the Debian package
// pkg provides.
func Program(t testing.TB, name, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is not installed, and CI must run every test: apt-get install -y %s", name, pkg)
	}
	t.Skipf("%s is not installed: apt-get install -y %s (or run ./test.sh, which installs it)", name, pkg)
	return ""
}
