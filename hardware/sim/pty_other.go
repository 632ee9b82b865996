//go:build !linux

package sim

import (
	"errors"
	"os"
)

type ptyPair struct {
	leader   *os.File
	follower *os.File
	path     string
}

func openPTY() (*ptyPair, error) {
	return nil, errors.New("device simulators need a Linux pseudo-terminal")
}

func (p *ptyPair) releaseExclusive() error { return nil }
func (p *ptyPair) close() error            { return nil }
