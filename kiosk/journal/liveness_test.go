package journal

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatepost/gatepost/internal/clock"
	"github.com/gatepost/gatepost/protocol/protocoltest"
)

// TestStuckWrite: a write held inside (the InWrite hook) is reported once
// it has run longer than the limit, and not after it ends.
func TestStuckWrite(t *testing.T) {
	clk := clock.NewFake(t0)
	entered, release := make(chan struct{}), make(chan struct{})
	hold := false
	j, err := OpenWith(filepath.Join(t.TempDir(), "journal.db"), "gate-1", Options{Clock: clk, InWrite: func() {
		if hold {
			close(entered)
			<-release
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if err := j.Stuck(time.Second); err != nil {
		t.Fatalf("Stuck() on an idle journal = %v", err)
	}
	hold = true
	done := make(chan error, 1)
	go func() {
		_, err := j.Append(context.Background(), protocoltest.Entry(protocoltest.Scan("x")))
		done <- err
	}()
	<-entered
	if err := j.Stuck(time.Second); err != nil {
		t.Fatalf("Stuck() on a write just begun = %v", err)
	}
	clk.Advance(2 * time.Second)
	if err := j.Stuck(time.Second); err == nil || !strings.Contains(err.Error(), "journal write") {
		t.Fatalf("Stuck() after 2s in a write = %v, want an error about the journal write", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := j.Stuck(time.Second); err != nil {
		t.Fatalf("Stuck() after the write ended = %v", err)
	}
}

// TestCheckWrite: the journal's write lock can be taken; while another
// connection holds it, CheckWrite fails when its context ends.
func TestCheckWrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.db")
	j, err := Open(path, "gate-1")
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if err := j.CheckWrite(context.Background()); err != nil {
		t.Fatalf("CheckWrite() = %v", err)
	}
	if err := j.QuickCheck(context.Background()); err != nil {
		t.Fatalf("QuickCheck() = %v", err)
	}
	other, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(0)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := j.CheckWrite(ctx); err == nil {
		t.Fatal("CheckWrite() while another connection holds the write lock = nil, want an error")
	}
	conn.ExecContext(context.Background(), "ROLLBACK")
	if err := j.CheckWrite(context.Background()); err != nil {
		t.Fatalf("CheckWrite() once the lock is free = %v", err)
	}
	ro, err := OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if err := ro.CheckWrite(context.Background()); err == nil || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("CheckWrite() on a read-only journal = %v, want it refused as read-only", err)
	}
}
