package protocol

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// EncodingGzip is the only compression a batch may declare.
const EncodingGzip = "gzip"

// compressed is a batch whose JSON was gzipped: {"v":1,"encoding":"gzip",
// "data":"<base64 of the gzip stream of a whole batch message>"}. The
// payload stays JSON, so any MQTT tool can tell what it is, and the
// declaration is a field, not a guess from magic bytes.
type compressed struct {
	V        int    `json:"v"`
	Encoding string `json:"encoding"`
	Data     []byte `json:"data"` // base64 in JSON
}

// EncodeBatchPayload validates b and returns its wire form, gzipped and
// wrapped (see DecodeBatchPayload) when the plain form is longer than
// gzipAbove bytes and compression makes it smaller. gzipAbove <= 0 never
// compresses.
func EncodeBatchPayload(b Batch, gzipAbove int) ([]byte, error) {
	plain, err := EncodeBatch(b)
	if err != nil {
		return nil, err
	}
	return compressIfItPays(plain, gzipAbove)
}

func compressIfItPays(plain []byte, gzipAbove int) ([]byte, error) {
	if gzipAbove <= 0 || len(plain) <= gzipAbove {
		return plain, nil
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed) // level is valid
	zw.Write(plain)                                    // a bytes.Buffer does not fail
	zw.Close()
	if base64.StdEncoding.EncodedLen(buf.Len())+40 >= len(plain) {
		return plain, nil // does not pay
	}
	return json.Marshal(compressed{V: Version, Encoding: EncodingGzip, Data: buf.Bytes()})
}

// DecodeBatchPayload parses a batch as sent on the entries and alerts
// topics: either a plain batch, or {"v":1,"encoding":"gzip","data":...}
// whose data, once un-gzipped, is a plain batch. The un-gzipped size is
// bounded by MaxMessageBytes, so a small bomb cannot exhaust memory.
func DecodeBatchPayload(data []byte) (Batch, error) {
	// One pass over the message for the common case; the version is still
	// judged before any other problem (see versionFirst).
	var w struct {
		wireBatch
		Encoding *string `json:"encoding"`
		Data     *string `json:"data"`
	}
	if err := decodeJSON(data, &w); err != nil {
		return Batch{}, versionFirst(data, err)
	}
	if err := checkVersion(w.V); err != nil {
		return Batch{}, err
	}
	if w.Encoding == nil {
		return w2batch(&w.wireBatch)
	}
	if *w.Encoding != EncodingGzip {
		return Batch{}, bad("encoding", "unknown encoding %q (this build reads %q)", *w.Encoding, EncodingGzip)
	}
	if w.Data == nil {
		return Batch{}, missing("data")
	}
	z, err := base64.StdEncoding.DecodeString(*w.Data)
	if err != nil {
		return Batch{}, bad("data", "must be base64: %v", err)
	}
	plain, err := gunzip(z, MaxMessageBytes)
	if err != nil {
		return Batch{}, bad("data", "%v", err)
	}
	b, err := DecodeBatch(plain)
	if err != nil {
		return Batch{}, prefixed("data", err)
	}
	return b, nil
}

// gunzip inflates z, refusing more than limit bytes of output.
func gunzip(z []byte, limit int64) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(z))
	if err != nil {
		return nil, fmt.Errorf("not gzip: %v", err)
	}
	out, err := io.ReadAll(io.LimitReader(zr, limit+1))
	if err != nil {
		return nil, fmt.Errorf("broken gzip stream: %v", err)
	}
	if int64(len(out)) > limit {
		return nil, fmt.Errorf("inflates to over %d bytes", limit)
	}
	return out, nil
}

// EncodeBatchOfEncoded is EncodeBatchPayload for entries already in their
// EncodeEntry form (the kiosk's journal stores them so): it assembles the
// batch without decoding and re-encoding each entry. The entries must be
// of kiosk, in increasing sequence order, as EncodeEntry wrote them; the
// hub validates every batch it receives in any case. sig is the batch's
// signature (SignChain over the entries' links, as Batch.Sig), "" for
// none.
func EncodeBatchOfEncoded(kiosk, site, journal string, sent time.Time, entries [][]byte, sig string, gzipAbove int) ([]byte, error) {
	switch {
	case !ValidName(kiosk):
		return nil, bad("kiosk", "must be 1-64 letters, digits, '-' or '_', got %q", kiosk)
	case !ValidName(site):
		return nil, bad("site", "must be 1-64 letters, digits, '-' or '_', got %q", site)
	case journal != "" && !ValidName(journal):
		return nil, bad("journal", "must be 1-64 letters, digits, '-' or '_', got %q", journal)
	case len(entries) == 0 || len(entries) > MaxBatchEntries:
		return nil, bad("entries", "must hold 1 to %d entries, got %d", MaxBatchEntries, len(entries))
	}
	if err := checkSigShape(sig); err != nil {
		return nil, err
	}
	ts, err := sent.MarshalJSON()
	if err != nil {
		return nil, bad("sent", "%v", err)
	}
	size := 90 + len(kiosk) + len(site) + len(journal) + len(ts) + len(sig)
	for _, e := range entries {
		size += len(e) + 1
	}
	buf := make([]byte, 0, size)
	buf = append(buf, `{"v":1,"kiosk":"`...)
	buf = append(buf, kiosk...) // ValidName: nothing to escape
	buf = append(buf, `","site":"`...)
	buf = append(buf, site...)
	if journal != "" { // the order json.Marshal writes Batch's fields in
		buf = append(buf, `","journal":"`...)
		buf = append(buf, journal...)
	}
	buf = append(buf, `","sent":`...)
	buf = append(buf, ts...)
	buf = append(buf, `,"entries":[`...)
	for i, e := range entries {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, e...)
	}
	buf = append(buf, ']')
	if sig != "" {
		buf = append(buf, `,"sig":"`...)
		buf = append(buf, sig...) // checkSigShape: base64url, nothing to escape
		buf = append(buf, '"')
	}
	buf = append(buf, '}')
	return compressIfItPays(buf, gzipAbove)
}
