package uplink

import (
	"fmt"

	"github.com/gatepost/gatepost/kiosk/journal"
	"github.com/gatepost/gatepost/protocol"
)

// encodeStored returns the payload of a batch of entries as the journal
// stores them, signed with the kiosk's key (Config.Key): the journal's
// bytes go out as they are, and the signature is made from the hashes it
// stored beside them, so that no entry is decoded or encoded again.
func (u *Uplink) encodeStored(entries []journal.Encoded, gzipAbove int) ([]byte, error) {
	journalID := u.journal.ID()
	bodies := make([][]byte, len(entries))
	var links []protocol.ChainLink
	if u.cfg.Key != nil {
		links = make([]protocol.ChainLink, len(entries))
	}
	for i, e := range entries {
		bodies[i] = e.Body
		if links != nil {
			l, err := e.Link()
			if err != nil {
				return nil, fmt.Errorf("sign batch: stored entry is damaged: %w", err)
			}
			links[i] = l
		}
	}
	sig := ""
	if links != nil {
		sig = protocol.SignChain(u.cfg.Key, u.cfg.Kiosk, u.cfg.Site, journalID, links)
	}
	payload, err := protocol.EncodeBatchOfEncoded(u.cfg.Kiosk, u.cfg.Site, journalID, u.clock.Now(), bodies, sig, gzipAbove)
	if err != nil {
		return nil, fmt.Errorf("encode batch: %w", err)
	}
	return payload, nil
}
