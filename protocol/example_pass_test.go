package protocol_test

import (
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/gatepost/gatepost/protocol"
)

// A hub signs a pass; a kiosk parses the scanned text and checks the
// signature with the hub's public key.
func ExampleSignPass() {
	seed := sha256.Sum256([]byte("example key, never for real passes"))
	priv := ed25519.NewKeyFromSeed(seed[:])
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	text, err := protocol.SignPass(protocol.Pass{
		Key: "k1", ID: "R7K3M9QX", Kind: protocol.PassResident, Site: "huamu-1",
		Unit: "3-502", Name: "王*明", ValidFrom: from, ValidUntil: from.AddDate(0, 6, 0),
	}, priv)
	if err != nil {
		panic(err)
	}
	fmt.Println(text[:4], len(text), "characters, all QR alphanumeric")

	sp, err := protocol.ParsePass(text)
	if err != nil {
		panic(err)
	}
	fmt.Println(sp.ID, sp.Unit, sp.Name, sp.Verify(priv.Public().(ed25519.PublicKey)))
	// Output:
	// GP1: 165 characters, all QR alphanumeric
	// R7K3M9QX 3-502 王*明 true
}
