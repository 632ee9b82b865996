package ingest

import (
	"fmt"
	"testing"
	"time"
)

// An answer is kept until its deadline and no longer; past admitKeys
// answers the expired ones go first, and the fresh ones stay.
func TestKeptAnswers(t *testing.T) {
	var k kept[string]
	now := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	if _, ok := k.get("s/a", now); ok {
		t.Fatal("an empty store had an answer")
	}
	k.put("s/a", "yes", now, now.Add(2*time.Second))
	if v, ok := k.get("s/a", now.Add(time.Second)); !ok || v != "yes" {
		t.Errorf("get within the deadline = %q, %v", v, ok)
	}
	if _, ok := k.get("s/a", now.Add(2*time.Second)); ok {
		t.Error("get at the deadline still answered")
	}
	for i := range admitKeys - 1 {
		k.put(fmt.Sprint("s/old-", i), "old", now, now.Add(time.Second))
	}
	later := now.Add(time.Minute)
	k.put("s/fresh", "fresh", later, later.Add(time.Second))
	k.put("s/new", "new", later, later.Add(time.Second)) // full: the expired go
	if len(k.m) != 2 {
		t.Errorf("after eviction %d answers kept, want the 2 fresh ones", len(k.m))
	}
	if v, ok := k.get("s/fresh", later); !ok || v != "fresh" {
		t.Errorf("the fresh answer = %q, %v; want kept", v, ok)
	}
}
