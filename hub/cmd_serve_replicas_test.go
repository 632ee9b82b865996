package main

import (
	"strings"
	"testing"
)

// `hub serve --replicas` takes a replica id and a share group, and with
// the embedded broker it refuses, saying why.
func TestServeReplicaFlags(t *testing.T) {
	cfg, _, err := serveConfig(t, "--replicas", "--replica-id", "hub-2", "--share-group", "city-hub", "--broker", "tls://mq.example:8883")
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Replicas || cfg.ReplicaID != "hub-2" || cfg.ShareGroup != "city-hub" {
		t.Errorf("flags = replicas %v, id %q, group %q; want true, hub-2, city-hub", cfg.Replicas, cfg.ReplicaID, cfg.ShareGroup)
	}
	cfg, _, err = serveConfig(t, "--replicas")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Database = "postgres://db.example/gatepost"
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "the embedded one lives in one hub's process; give --broker mqtts://") {
		t.Errorf("--replicas with the embedded broker: Validate = %v, want the refusal saying why", err)
	}
}
