package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/gatepost/gatepost/hub/datadir"
	"github.com/gatepost/gatepost/hub/operators"
)

// demoAdmin makes sure the console has an admin named "admin" with a
// fresh random password, and returns the password to print.
func demoAdmin(ctx context.Context, hubData string) (string, error) {
	s, err := datadir.Dir{Path: hubData}.OpenOperators()
	if err != nil {
		return "", err
	}
	defer s.Close()
	b := make([]byte, 12)
	rand.Read(b)
	pw := fmt.Sprintf("%x", b)
	err = s.AddUser(ctx, "admin", pw, true)
	if errors.Is(err, operators.ErrUserExists) {
		err = s.SetPassword(ctx, "admin", pw)
	}
	return pw, err
}
