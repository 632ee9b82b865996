package ingest

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"

	"github.com/gatepost/gatepost/protocol"
)

// Every batch carries its kiosk's signature over its entries and their
// place in the chain (protocol.Batch.Sig). Ingest checks it against the
// key the kiosk enrolled with (KioskKey) before anything of the batch is
// stored: a batch unsigned, signed with another key, or whose entries
// were changed after signing is refused whole (RefusedSignature), a
// security event. The key is kept AdmitFor, as Admit's answer is, so a
// flood does not read the register once a message.

// checkSignature returns nil when b's signature verifies against the
// enrolled key of kiosk at site (or there is no check: KioskKey nil, or a
// kiosk without a key), else a refusal, or an error wrapping
// errAdmitFailed when the key could not be read. A verified b keeps the
// links computed for it (b.Links), which the store then uses instead of
// hashing every entry a second time.
func (in *Ingest) checkSignature(ctx context.Context, site, kiosk, topic string, b *protocol.Batch) error {
	if in.KioskKey == nil {
		return nil
	}
	pub, err := in.kioskKey(ctx, site, kiosk)
	if err != nil {
		return in.admitFailed(site, kiosk, err)
	}
	if pub == nil {
		return nil
	}
	links, err := protocol.VerifyBatchLinks(pub, *b)
	if err == nil {
		b.Links = links
		return nil
	}
	first, last := b.Entries[0].Seq, b.Entries[len(b.Entries)-1].Seq
	if b.Sig == "" {
		err = fmt.Errorf("batch seq %d..%d carries no signature; kiosk %s enrolled with key %s", first, last, kiosk,
			protocol.Fingerprint(pub))
	} else if errors.Is(err, protocol.ErrSignature) {
		err = fmt.Errorf("batch seq %d..%d: %w", first, last, err)
	}
	return in.refuse(refusal{site: site, kiosk: kiosk, topic: topic, reason: protocol.RefusedSignature, err: err})
}

// kioskKey is KioskKey's answer (nil: admitted without enrolling), kept
// AdmitFor.
func (in *Ingest) kioskKey(ctx context.Context, site, kiosk string) (ed25519.PublicKey, error) {
	key := site + "/" + kiosk
	now := in.now()
	if pub, ok := in.keys.get(key, now); ok {
		return pub, nil
	}
	pub, err := in.KioskKey(ctx, site, kiosk)
	if err != nil {
		return nil, err
	}
	in.keys.put(key, pub, now, now.Add(in.admitFor()))
	return pub, nil
}
