package protocol

import "fmt"

// base45Alphabet is RFC 9285's: exactly the 45 characters of a QR code's
// alphanumeric mode, so a Base45 text packs at 5.5 bits per character in a
// QR code against 8 for bytes. The EU's certificates use it for the same
// reason.
const base45Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"

var base45Value = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i := 0; i < len(base45Alphabet); i++ {
		t[base45Alphabet[i]] = int8(i)
	}
	return t
}()

// Base45Encode returns the RFC 9285 Base45 text of b: three characters for
// every two bytes, two for a last odd byte.
func Base45Encode(b []byte) string {
	out := make([]byte, 0, (len(b)+1)/2*3)
	for i := 0; i+1 < len(b); i += 2 {
		n := int(b[i])<<8 | int(b[i+1])
		out = append(out, base45Alphabet[n%45], base45Alphabet[n/45%45], base45Alphabet[n/2025])
	}
	if len(b)%2 == 1 {
		n := int(b[len(b)-1])
		out = append(out, base45Alphabet[n%45], base45Alphabet[n/45])
	}
	return string(out)
}

// Base45Decode parses RFC 9285 Base45. It refuses characters outside the
// alphabet, a length that leaves one character over, and groups whose value
// does not fit the bytes they stand for.
func Base45Decode(s string) ([]byte, error) {
	if len(s)%3 == 1 {
		return nil, fmt.Errorf("%w: base45 text of %d characters is truncated", ErrInvalid, len(s))
	}
	out := make([]byte, 0, len(s)/3*2+1)
	for i := 0; i < len(s); i += 3 {
		var n, mul int = 0, 1
		end := min(i+3, len(s))
		for j := i; j < end; j++ {
			v := base45Value[s[j]]
			if v < 0 {
				return nil, fmt.Errorf("%w: base45: character %q at %d is not in the alphabet", ErrInvalid, s[j], j)
			}
			n += int(v) * mul
			mul *= 45
		}
		if end-i == 3 {
			if n > 0xFFFF {
				return nil, fmt.Errorf("%w: base45: group at %d is out of range", ErrInvalid, i)
			}
			out = append(out, byte(n>>8), byte(n))
		} else {
			if n > 0xFF {
				return nil, fmt.Errorf("%w: base45: last group at %d is out of range", ErrInvalid, i)
			}
			out = append(out, byte(n))
		}
	}
	return out, nil
}
