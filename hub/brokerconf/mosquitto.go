// Package brokerconf writes an external broker's access files from the
// hub's kiosk registry: Mosquitto's password_file (in its own hashed
// format), acl_file and a mosquitto.conf snippet that puts them in force,
// each replaced atomically, so that a Mosquitto in front of the hub admits
// only enrolled kiosks and lets each publish and read only its own topics.
//
// The hub's commands (`hub broker-config`) and hub/registry (for the hash)
// import brokerconf; it imports protocol only.
package brokerconf

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha512"
	"encoding/base64"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/gatepost/gatepost/protocol"
)

// Mosquitto's "$7$" format, as mosquitto_passwd 2.x writes it:
// $7$ITERATIONS$base64(salt)$base64(PBKDF2-SHA512(password, salt)).
const (
	mosquittoIterations = 101 // mosquitto_passwd's default
	mosquittoSaltLen    = 12
	mosquittoHashLen    = 64
)

// MosquittoHash hashes password in Mosquitto's $7$ format with a fresh
// salt. The hub keeps only this hash (and its own), never the password.
func MosquittoHash(password string) (string, error) {
	salt := make([]byte, mosquittoSaltLen)
	if _, err := io.ReadFull(rand.Reader, salt); err != nil {
		return "", fmt.Errorf("mosquitto hash: %w", err)
	}
	return mosquittoHash(password, salt, mosquittoIterations)
}

func mosquittoHash(password string, salt []byte, iterations int) (string, error) {
	key, err := pbkdf2.Key(sha512.New, password, salt, iterations, mosquittoHashLen)
	if err != nil {
		return "", fmt.Errorf("mosquitto hash: %w", err)
	}
	return "$7$" + strconv.Itoa(iterations) + "$" + base64.StdEncoding.EncodeToString(salt) + "$" +
		base64.StdEncoding.EncodeToString(key), nil
}

// CheckMosquittoHash reports whether password matches a $7$ hash.
func CheckMosquittoHash(hash, password string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 5 || parts[0] != "" || parts[1] != "7" {
		return false
	}
	iterations, err := strconv.Atoi(parts[2])
	if err != nil || iterations < 1 || iterations > 1_000_000 {
		return false
	}
	salt, err := base64.StdEncoding.DecodeString(parts[3])
	if err != nil {
		return false
	}
	again, err := mosquittoHash(password, salt, iterations)
	return err == nil && again == hash
}

// Account is one broker login: a kiosk (Site and Kiosk set) or the hub
// (Hub true). Hash is its password in Mosquitto's format.
type Account struct {
	Site, Kiosk string
	Hub         bool
	Username    string
	Hash        string
}

// KioskUsername is the broker username of a kiosk: SITE/KIOSK, so that the
// ACL's %u stands for the two topic levels that name it.
func KioskUsername(site, kiosk string) string { return site + "/" + kiosk }

// WritePasswordFile writes Mosquitto's password_file: one
// "username:hash" line per account, sorted, so that two runs over the same
// registry write the same file.
func WritePasswordFile(w io.Writer, accounts []Account) error {
	sorted := append([]Account(nil), accounts...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Username < sorted[j].Username })
	for _, a := range sorted {
		if err := checkAccount(a); err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "%s:%s\n", a.Username, a.Hash); err != nil {
			return err
		}
	}
	return nil
}

func checkAccount(a Account) error {
	switch {
	case a.Username == "" || strings.ContainsAny(a.Username, ":\n\r+#"):
		return fmt.Errorf("broker account %q: a username may not be empty or hold ':', '+', '#' or a line break", a.Username)
	case !strings.HasPrefix(a.Hash, "$7$"):
		return fmt.Errorf("broker account %q: no Mosquitto hash ($7$) stored; enroll the kiosk again", a.Username)
	case !a.Hub && (!protocol.ValidName(a.Site) || !protocol.ValidName(a.Kiosk) || a.Username != KioskUsername(a.Site, a.Kiosk)):
		return fmt.Errorf("broker account %q: not SITE/KIOSK of a valid site and kiosk", a.Username)
	}
	return nil
}

// WriteACL writes Mosquitto's acl_file. Pattern rules give every kiosk its
// own topics through %u (its username is SITE/KIOSK): it writes its
// entries, alerts and status, and reads its ack and its own downlinks.
// Its site's downlinks need the site alone, which %u cannot give, so each
// kiosk gets one "user" block for them. The hub reads and writes all of
// gatepost's topics. Anything not granted is denied.
func WriteACL(w io.Writer, accounts []Account) error {
	var b strings.Builder
	b.WriteString("# Written by `hub broker-config mosquitto` from the hub's kiosk registry.\n")
	b.WriteString("# Do not edit: run the command again after an enroll or retire, then reload Mosquitto.\n\n")
	sorted := append([]Account(nil), accounts...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Username < sorted[j].Username })
	for _, a := range sorted {
		if err := checkAccount(a); err != nil {
			return err
		}
		if a.Hub {
			fmt.Fprintf(&b, "user %s\ntopic readwrite %s/#\n\n", a.Username, protocol.TopicRoot)
			continue
		}
		fmt.Fprintf(&b, "user %s\ntopic read %s/%s/downlink/+\n\n", a.Username, protocol.TopicRoot, a.Site)
	}
	root := protocol.TopicRoot
	b.WriteString("# Every kiosk: its own topics.\n")
	for _, leaf := range []string{"entries", "alerts", "status"} {
		fmt.Fprintf(&b, "pattern write %s/%%u/%s\n", root, leaf)
	}
	fmt.Fprintf(&b, "pattern read %s/%%u/ack\n", root)
	fmt.Fprintf(&b, "pattern read %s/%%u/downlink/+\n", root)
	_, err := io.WriteString(w, b.String())
	return err
}
