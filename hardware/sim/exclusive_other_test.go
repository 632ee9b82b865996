//go:build !(linux && (amd64 || arm64 || arm || 386 || riscv64))

package sim_test

import "testing"

// exclusive cannot inspect the flag here; see exclusive_linux_test.go.
func exclusive(t *testing.T, path string) bool {
	t.Helper()
	t.Logf("cannot inspect the exclusive flag of %s on this platform", path)
	return false
}
