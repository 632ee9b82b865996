//go:build linux && (amd64 || arm64 || arm || 386 || riscv64)

package sim_test

import (
	"errors"
	"os"
	"syscall"
	"testing"
	"unsafe"
)

// tiocgexcl is TIOCGEXCL on these architectures; the syscall package
// lacks it on some of them.
const tiocgexcl = 0x80045440

// exclusive reports whether the tty at path is in exclusive mode
// (TIOCEXCL), which is what makes a non-root open fail with EBUSY; as root
// the flag is ignored, so this is how a test running as root sees it.
func exclusive(t *testing.T, path string) bool {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR|syscall.O_NOCTTY, 0)
	if errors.Is(err, syscall.EBUSY) {
		return true // not root: the flag itself refuses us
	}
	if err != nil {
		t.Fatalf("open %s to inspect it: %v", path, err)
	}
	defer f.Close()
	var v int32
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), tiocgexcl, uintptr(unsafe.Pointer(&v))); errno != 0 {
		t.Fatalf("TIOCGEXCL on %s: %v", path, errno)
	}
	return v != 0
}
