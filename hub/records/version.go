package records

// SchemaVersion is the highest schema version of hub.db this build knows
// (PRAGMA user_version): Open migrates an older file up to it and refuses
// a newer one, unchanged, with a *storeversion.NewerError.
func SchemaVersion() int { return len(migrations()) }
