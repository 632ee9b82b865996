package main

import (
	"bytes"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gatepost/gatepost/hub/operators"
)

func TestUsersCommands(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	if err := run(t, t.Context(), &out, "users", "add", "wang", "--admin", "--data", dir); err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`password: (\S{20})\n`).FindStringSubmatch(out.String())
	if !strings.Contains(out.String(), "added wang (admin)") || m == nil {
		t.Fatalf("users add =\n%s", out.String())
	}
	cmd := newRootCommand("test", &out, &out)
	cmd.SetIn(strings.NewReader("a typed password\n"))
	cmd.SetArgs([]string{"users", "add", "li", "--password-stdin", "--data", dir})
	if err := cmd.ExecuteContext(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := run(t, t.Context(), &out, "users", "add", "li", "--data", dir); err == nil {
		t.Errorf("adding li twice succeeded")
	}
	if err := run(t, t.Context(), &out, "users", "disable", "li", "--data", dir); err != nil {
		t.Fatal(err)
	}
	if err := run(t, t.Context(), &out, "users", "disable", "nobody", "--data", dir); err == nil {
		t.Errorf("disabling nobody succeeded")
	}
	if err := run(t, t.Context(), &out, "users", "role", "li", "admin", "--data", dir); err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][]string{{"users", "role", "li", "root"}, {"users", "role", "nobody", "admin"}} {
		if err := run(t, t.Context(), &out, append(bad, "--data", dir)...); err == nil {
			t.Errorf("hub %s succeeded", strings.Join(bad, " "))
		}
	}
	out.Reset()
	if err := run(t, t.Context(), &out, "users", "list", "--data", dir); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^li\s+admin\s+disabled$`).MatchString(out.String()) ||
		!regexp.MustCompile(`(?m)^wang\s+admin\s+active$`).MatchString(out.String()) {
		t.Errorf("users list =\n%s", out.String())
	}
	out.Reset()
	if err := run(t, t.Context(), &out, "users", "passwd", "wang", "--data", dir); err != nil {
		t.Fatal(err)
	}
	m2 := regexp.MustCompile(`password: (\S{20})\n`).FindStringSubmatch(out.String())
	s, err := operators.Open(filepath.Join(dir, operators.FileName), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Authenticate(t.Context(), "wang", m[1]); err == nil {
		t.Errorf("old password still works after passwd")
	}
	if m2 == nil {
		t.Fatalf("passwd printed no password")
	}
	if _, err := s.Authenticate(t.Context(), "wang", m2[1]); err != nil {
		t.Errorf("new password: %v", err)
	}
	if _, err := s.Authenticate(t.Context(), "li", "a typed password"); err == nil {
		t.Errorf("disabled li can sign in")
	}
}
