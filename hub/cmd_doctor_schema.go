package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/gatepost/gatepost/hub/datadir"
	"github.com/gatepost/gatepost/hub/operators"
	"github.com/gatepost/gatepost/hub/passes"
	"github.com/gatepost/gatepost/hub/records"
	"github.com/gatepost/gatepost/hub/registry"
	"github.com/gatepost/gatepost/internal/doctor"
	"github.com/gatepost/gatepost/internal/storeversion"
)

// What to do about a store a newer hub wrote, in both languages.
const (
	fixNewerZH = "数据由较新版本的 gatepost 写入：重新安装那个版本，或恢复升级前用 hub backup 做的备份（hub restore）"
	fixNewerEN = "the data was written by a newer gatepost: install that version again, or restore the backup `hub backup` made before the upgrade (`hub restore`)"
)

// checkSchemas reports the schema version of each of the hub's stores
// against what this hub knows, reading each file without changing it and
// before anything opens one for writing: a store a newer hub wrote FAILs
// (this hub refuses to open it); an older one, which `hub serve`
// migrates when it starts, WARNs to back up first. Every store is
// migrated by goose, and each reads its version its own way (its
// Versions: goose's record, or what adopting a file from before goose
// records, or the user_version a newer hub from before goose left).
func checkSchemas(ctx context.Context, r *doctor.Report, dir datadir.Dir) {
	var found, newer, older []string
	for _, st := range []struct {
		file, schema string
		path         string
		versions     func(ctx context.Context, path string) (have, known int64, err error)
	}{
		{datadir.RecordsFile, records.Schema, dir.RecordsPath(), records.Versions},
		{operators.FileName, operators.Schema, dir.OperatorsPath(), operators.Versions},
		{registry.FileName, registry.Schema, dir.RegistryPath(), registry.Versions},
		{passes.DBFile, passes.Schema, filepath.Join(dir.Path, passes.DBFile), passes.Versions},
	} {
		if dir.Database != "" { // --database: each store's schema in PostgreSQL
			st.file, st.path = "schema "+st.schema, dir.Database
		}
		have, known, err := st.versions(ctx, st.path)
		switch {
		case errors.Is(err, os.ErrNotExist):
			continue // made when first needed
		case errors.Is(err, storeversion.ErrNewer): // a user_version from before goose
			newer = append(newer, err.Error())
			continue
		case err != nil:
			r.Fail("schema", err.Error(), "停止中心，备份数据目录后联系支持", "stop the hub, copy the data folder, and get help")
			return
		}
		found = append(found, fmt.Sprintf("%s %d", st.file, have))
		if err := storeversion.Check(st.file, int(have), int(known), "hub"); err != nil {
			newer = append(newer, err.Error())
		} else if have < known {
			older = append(older, fmt.Sprintf("%s is at schema version %d, this hub knows %d", st.file, have, known))
		}
	}
	switch {
	case len(newer) > 0:
		r.Fail("schema", strings.Join(newer, "; "), fixNewerZH, fixNewerEN)
	case len(older) > 0:
		r.Warn("schema", strings.Join(older, "; "), "中心启动时会升级这些文件；先用 hub backup 备份",
			"hub serve upgrades them when it starts; take a `hub backup` first")
	default:
		r.OK("schema", "schema versions current: "+strings.Join(found, ", "))
	}
}

// openStorage opens hub.db for the checks that read it, and reports the
// storage line. A hub.db an older hub wrote is not opened, since opening
// migrates it: that is for `hub serve`, after a backup (WARN, and no
// store). It reports false when the doctor can check nothing more.
func openStorage(ctx context.Context, r *doctor.Report, dir datadir.Dir) (*records.SQLite, bool) {
	if v, err := storeversion.ReadFile(ctx, dir.RecordsPath()); err == nil && v < records.SchemaVersion() {
		r.Warn("storage", fmt.Sprintf("hub.db not opened: it is at schema version %d, and hub serve migrates it to %d when it starts", v, records.SchemaVersion()),
			"先用 hub backup 备份，再启动中心", "take a `hub backup`, then start the hub")
		return nil, true
	}
	store, err := dir.OpenExistingRecords()
	if err == nil {
		_, err = store.Kiosks(ctx)
		if err != nil {
			store.Close()
		}
	}
	switch {
	case errors.Is(err, storeversion.ErrNewer):
		r.Fail("storage", err.Error(), fixNewerZH, fixNewerEN)
		return nil, false
	case err != nil:
		r.Fail("storage", err.Error(), "停止中心，备份数据目录后联系支持", "stop the hub, copy the data folder, and get help")
		return nil, false
	}
	r.OK("storage", "hub.db answers")
	return store, true
}
