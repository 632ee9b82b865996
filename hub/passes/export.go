package passes

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gatepost/gatepost/protocol"
)

// Files a kiosk reads its pass payloads from until the downlink carries
// them (kiosk/passcheck.Dir reads the same names).
const (
	KeysFile       = "keys.json"
	StatusListFile = "status-list.json"
)

// ExportKiosk writes the current key set and site's status list, in their
// downlink wire form, into dir, each file replaced atomically.
func (s *Store) ExportKiosk(ctx context.Context, site, dir string) (protocol.KeySet, protocol.StatusList, error) {
	ks, err := s.KeySet(ctx)
	if err != nil {
		return ks, protocol.StatusList{}, err
	}
	sl, err := s.StatusList(ctx, site)
	if err != nil {
		return ks, sl, err
	}
	keys, err := protocol.EncodeKeySet(ks)
	if err != nil {
		return ks, sl, err
	}
	list, err := protocol.EncodeStatusList(sl)
	if err != nil {
		return ks, sl, err
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return ks, sl, err
	}
	for name, data := range map[string][]byte{KeysFile: keys, StatusListFile: list} {
		if err := writeAtomic(filepath.Join(dir, name), data); err != nil {
			return ks, sl, err
		}
	}
	return ks, sl, nil
}

// writeAtomic writes data to a temporary file beside path, syncs it and
// renames it over path, so a reader sees the old file or the new, never half.
func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
