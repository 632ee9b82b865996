package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
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
// against what this hub knows, reading each without changing it and
// before anything opens one for writing: a store a newer hub wrote FAILs
// (this hub refuses to open it); an older one, which `hub serve`
// migrates when it starts, WARNs to back up first. Every store is
// migrated by goose, and each reads its version its own way (its
// Versions: goose's record, or what adopting a file from before goose
// records, or the user_version a newer hub from before goose left). On
// SQLite every store is in hub.db, each with its own goose table; an old
// console.db, passes.db or kiosks.db still in the folder is read instead
// of that store's tables in hub.db, and WARNs that the hub merges it.
func checkSchemas(ctx context.Context, r *doctor.Report, dir datadir.Dir) {
	var found, newer, older, merging []string
	unmerged, err := dir.Unmerged()
	if err != nil {
		r.Fail("schema", err.Error(), "停止中心，备份数据目录后联系支持", "stop the hub, copy the data folder, and get help")
		return
	}
	for _, st := range []struct {
		file, schema string
		store        string // its name in hub.db's line
		versions     func(ctx context.Context, path string) (have, known int64, err error)
		shared       func(ctx context.Context, path string) (have, known int64, err error)
	}{
		{datadir.RecordsFile, records.Schema, "records", records.Versions, nil},
		{operators.FileName, operators.Schema, "console", operators.Versions, operators.SharedVersions},
		{registry.FileName, registry.Schema, "registry", registry.Versions, registry.SharedVersions},
		{passes.DBFile, passes.Schema, "passes", passes.Versions, passes.SharedVersions},
	} {
		path := filepath.Join(dir.Path, st.file)
		label := st.file
		switch {
		case dir.Database != "": // --database: each store's schema in PostgreSQL
			label, path = "schema "+st.schema, dir.Database
		case st.shared != nil && !slices.Contains(unmerged, st.file):
			label, path, st.versions = "hub.db "+st.store, dir.RecordsPath(), st.shared
		}
		have, known, err := st.versions(ctx, path)
		switch {
		case errors.Is(err, os.ErrNotExist):
			continue // made when first needed
		case errors.Is(err, storeversion.ErrNewer): // a user_version from before goose
			newer = append(newer, err.Error())
			continue
		case err != nil:
			r.Fail("schema", err.Error(), "停止中心，备份数据目录后联系支持", "stop the hub, copy the data folder, and get help")
			return
		case have == 0 && path == dir.RecordsPath() && st.shared != nil:
			continue // the store's tables are not in hub.db yet: made when first needed
		}
		found = append(found, fmt.Sprintf("%s %d", label, have))
		if slices.Contains(unmerged, label) {
			merging = append(merging, fmt.Sprintf("%s %d", label, have))
		}
		if err := storeversion.Check(label, int(have), int(known), "hub"); err != nil {
			newer = append(newer, err.Error())
		} else if have < known {
			older = append(older, fmt.Sprintf("%s is at schema version %d, this hub knows %d", label, have, known))
		}
	}
	if len(merging) > 0 {
		older = append(older, "merged into hub.db when the hub next opens its data (each kept as NAME.merged): "+strings.Join(merging, ", "))
	}
	switch {
	case len(newer) > 0:
		r.Fail("schema", strings.Join(newer, "; "), fixNewerZH, fixNewerEN)
	case len(older) > 0:
		r.Warn("schema", strings.Join(older, "; "), "中心启动时会升级这些文件；先用 hub backup 备份",
			"hub serve upgrades them when it starts; take a `hub backup` first")
	default:
		line := "schema versions current: " + strings.Join(found, ", ")
		if kept := dir.Kept(); len(kept) > 0 {
			line += "; kept from the merge into hub.db: " + strings.Join(kept, ", ") + " (remove them once the hub runs well)"
		}
		r.OK("schema", line)
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
	if unmerged, err := dir.Unmerged(); err == nil && len(unmerged) > 0 {
		// Opening hub.db would merge them: that is for `hub serve`, after a
		// backup; a hub.db from a newer hub is said all the same.
		if _, _, err := records.Versions(ctx, dir.RecordsPath()); errors.Is(err, storeversion.ErrNewer) {
			r.Fail("storage", err.Error(), fixNewerZH, fixNewerEN)
			return nil, false
		}
		r.Warn("storage", "hub.db not opened: the hub merges "+strings.Join(unmerged, ", ")+" into it when it next opens its data",
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
