package protocol

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
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
	if err != nil || gzipAbove <= 0 || len(plain) <= gzipAbove {
		return plain, err
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
	var h struct {
		Encoding *string `json:"encoding"`
		Data     *string `json:"data"`
	}
	if err := decodeVersioned(data, &h); err != nil {
		return Batch{}, err
	}
	if h.Encoding == nil {
		return DecodeBatch(data)
	}
	if *h.Encoding != EncodingGzip {
		return Batch{}, bad("encoding", "unknown encoding %q (this build reads %q)", *h.Encoding, EncodingGzip)
	}
	if h.Data == nil {
		return Batch{}, missing("data")
	}
	z, err := base64.StdEncoding.DecodeString(*h.Data)
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
