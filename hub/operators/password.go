package operators

import (
	"crypto/rand"
	"fmt"
)

// NewPassword returns a password for an account that a person did not
// choose: 20 characters from an alphabet without look-alikes (no 0/O,
// 1/l/I), about 100 bits, readable aloud over a phone. `hub users` and
// the console's users page both make passwords here.
func NewPassword() (string, error) {
	const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("make a password: %w", err)
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b), nil
}
