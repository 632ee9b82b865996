//go:build linux

package sim

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"

	"github.com/creack/pty"
	"golang.org/x/term"
)

// ptyPair is an open pseudo-terminal: the leader we speak the device side
// on, and a follower descriptor we hold (never read) so the port outlives
// the drivers that open it.
type ptyPair struct {
	leader   *os.File
	follower *os.File
	path     string

	closeOnce sync.Once
	closeErr  error
}

func openPTY() (*ptyPair, error) {
	leader, follower, err := pty.Open()
	if err != nil {
		return nil, fmt.Errorf("open pseudo-terminal: %w", err)
	}
	// creack/pty calls Fd on the leader, which leaves it in blocking mode:
	// then Close would not unblock our reader goroutine, and it would
	// leak. A non-blocking duplicate goes through Go's poller instead.
	l, err := pollable(leader)
	leader.Close()
	if err != nil {
		follower.Close()
		return nil, fmt.Errorf("open pseudo-terminal: %w", err)
	}
	// Raw mode before the first byte: the default line discipline would
	// turn CR into LF and echo the driver's commands back to it.
	if _, err := term.MakeRaw(int(follower.Fd())); err != nil {
		l.Close()
		follower.Close()
		return nil, fmt.Errorf("set pseudo-terminal raw: %w", err)
	}
	return &ptyPair{leader: l, follower: follower, path: follower.Name()}, nil
}

func pollable(f *os.File) (*os.File, error) {
	fd, err := syscall.Dup(int(f.Fd()))
	if err != nil {
		return nil, fmt.Errorf("dup leader: %w", err)
	}
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("set leader non-blocking: %w", err)
	}
	return os.NewFile(uintptr(fd), f.Name()), nil
}

// releaseExclusive clears the exclusive-open flag on the pty. go.bug.st/
// serial sets it (TIOCEXCL) on open and clears it on Close; a driver that
// is killed never clears it, and because we hold the follower the flag
// outlives the process, so a restarted driver running as anyone but root
// would get "port busy". A real device is released by the kernel instead.
func (p *ptyPair) releaseExclusive() error {
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, p.follower.Fd(), syscall.TIOCNXCL, 0)
	if errno != 0 {
		return fmt.Errorf("release %s: %w", p.path, errno)
	}
	return nil
}

// close closes the leader first, which unblocks goroutines reading or
// writing it, then the follower, which makes the path disappear.
// Closing twice is harmless: a simulator unplugged mid-frame closes its
// pair before Close does.
func (p *ptyPair) close() error {
	p.closeOnce.Do(func() { p.closeErr = errors.Join(p.leader.Close(), p.follower.Close()) })
	return p.closeErr
}
