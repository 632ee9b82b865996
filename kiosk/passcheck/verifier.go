package passcheck

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/gatepost/gatepost/protocol"
)

// Downlink kinds the verifier reads from its Source.
const (
	KindKeys       = "keys"
	KindStatusList = "status_list"
)

// Source gives the latest downlink payload of a kind ("keys",
// "status_list") in its wire form, or nil with no error when none has
// arrived yet. The journal's downlink store is one; Dir (files) is another.
type Source interface {
	Latest(ctx context.Context, kind string) ([]byte, error)
}

// Dir is a Source reading files from a folder: keys.json and
// status-list.json, as `hub passes export-kiosk` writes them.
type Dir string

var _ Source = Dir("")

// Files Dir reads, by kind.
var dirFiles = map[string]string{KindKeys: "keys.json", KindStatusList: "status-list.json"}

// Latest reads the file for kind; a missing file is "none yet".
func (d Dir) Latest(_ context.Context, kind string) ([]byte, error) {
	name, ok := dirFiles[kind]
	if !ok {
		return nil, fmt.Errorf("unknown downlink kind %q", kind)
	}
	path := filepath.Join(string(d), name)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// One byte over the limit, so the decoder sees and names an oversized
	// file rather than a truncated one.
	data, err := io.ReadAll(io.LimitReader(f, protocol.MaxMessageBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return data, nil
}

// Verifier checks scanned texts against the latest key set and status
// list from its Source. It keeps the last payloads that decoded, so a
// damaged or unreadable update never leaves the gate without keys.
type Verifier struct {
	site   string
	src    Source
	now    func() time.Time
	maxAge time.Duration
	skew   time.Duration

	mu      sync.Mutex
	keysRaw []byte
	keys    *protocol.KeySet
	listRaw []byte
	list    *protocol.StatusList
}

// Options tune a Verifier; zero values take the defaults.
type Options struct {
	MaxAge time.Duration // status list freshness limit (DefaultMaxAge)
	Skew   time.Duration // tolerated clock error (DefaultSkew)
}

// New returns a Verifier for site reading from src, with now as its clock.
func New(site string, src Source, now func() time.Time, o Options) *Verifier {
	if o.MaxAge <= 0 {
		o.MaxAge = DefaultMaxAge
	}
	if o.Skew <= 0 {
		o.Skew = DefaultSkew
	}
	return &Verifier{site: site, src: src, now: now, maxAge: o.MaxAge, skew: o.Skew}
}

// Verify checks text. The error reports a source that could not be read
// or a payload that did not decode; the result is still a full verdict
// made with the last good payloads, so the caller logs the error and goes
// on.
func (v *Verifier) Verify(ctx context.Context, text string) (Result, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	err := errors.Join(v.refresh(ctx, KindKeys), v.refresh(ctx, KindStatusList))
	return Check(text, Params{Site: v.site, Keys: v.keys, List: v.list, Now: v.now(), Skew: v.skew, MaxAge: v.maxAge}), err
}

// State reports the payloads in use: key set and status list versions (0
// when none) and whether the list is stale now.
func (v *Verifier) State(ctx context.Context) (keys, list uint64, stale bool, err error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	err = errors.Join(v.refresh(ctx, KindKeys), v.refresh(ctx, KindStatusList))
	if v.keys != nil {
		keys = v.keys.Version
	}
	if v.list != nil {
		list = v.list.Version
	}
	stale, _ = staleList(v.site, v.list, v.now(), v.maxAge)
	return keys, list, stale, err
}

func staleList(site string, l *protocol.StatusList, now time.Time, maxAge time.Duration) (bool, string) {
	return stale(Params{Site: site, List: l, Now: now, MaxAge: maxAge})
}

// refresh decodes the kind's payload when it changed. A payload of a lower
// version than the one held is ignored: retained messages and files can
// arrive out of order.
func (v *Verifier) refresh(ctx context.Context, kind string) error {
	raw, err := v.src.Latest(ctx, kind)
	if err != nil {
		return fmt.Errorf("%s: %w", kind, err)
	}
	if raw == nil {
		return nil
	}
	switch kind {
	case KindKeys:
		if bytes.Equal(raw, v.keysRaw) {
			return nil
		}
		v.keysRaw = bytes.Clone(raw)
		ks, err := protocol.DecodeKeySet(raw)
		if err != nil {
			return fmt.Errorf("key set: %w", err)
		}
		if v.keys == nil || ks.Version >= v.keys.Version {
			v.keys = &ks
		}
	case KindStatusList:
		if bytes.Equal(raw, v.listRaw) {
			return nil
		}
		v.listRaw = bytes.Clone(raw)
		l, err := protocol.DecodeStatusList(raw)
		if err != nil {
			return fmt.Errorf("status list: %w", err)
		}
		if v.list == nil || l.Version >= v.list.Version {
			v.list = &l
		}
	}
	return nil
}
