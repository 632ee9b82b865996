package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/gatepost/gatepost/hub/datadir"
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
	if !regexp.MustCompile(`(?m)^li\s+admin\s+disabled\s+all$`).MatchString(out.String()) ||
		!regexp.MustCompile(`(?m)^wang\s+admin\s+active\s+all$`).MatchString(out.String()) {
		t.Errorf("users list =\n%s", out.String())
	}
	out.Reset()
	if err := run(t, t.Context(), &out, "users", "passwd", "wang", "--data", dir); err != nil {
		t.Fatal(err)
	}
	m2 := regexp.MustCompile(`password: (\S{20})\n`).FindStringSubmatch(out.String())
	s, err := datadir.Dir{Path: dir}.OpenOperators()
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

func TestUsersScopeAndLead(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	must := func(args ...string) {
		t.Helper()
		if err := run(t, t.Context(), &out, append(args, "--data", dir)...); err != nil {
			t.Fatalf("hub %s: %v", strings.Join(args, " "), err)
		}
	}
	must("users", "add", "boss", "--admin")
	must("users", "add", "li")
	must("users", "scope", "li", "--sites", "huamu-2, huamu-1")
	must("users", "add", "zhao", "--role", "building-lead", "--site", "huamu-1", "--buildings", "5,3")
	for _, bad := range [][]string{
		{"users", "scope", "li"},                                // neither --sites nor --all
		{"users", "scope", "li", "--all", "--sites", "huamu-1"}, // both
		{"users", "scope", "boss", "--sites", "huamu-1"},        // an admin sees all
		{"users", "scope", "li", "--sites", "bad site"},
		{"users", "add", "qian", "--role", "building-lead", "--site", "huamu-1"}, // no buildings
		{"users", "add", "qian", "--role", "root"},
		{"users", "add", "qian", "--site", "huamu-1"},                                   // --site without the role
		{"users", "scope", "li", "--sites", "huamu-1", "--buildings", "3"},              // li is no lead
		{"users", "scope", "zhao", "--sites", "huamu-1,huamu-2", "--buildings", "3"},    // a lead has one compound
		{"users", "scope", "zhao", "--sites", "huamu-1", "--buildings", "3 and a half"}, // not a building id
	} {
		if err := run(t, t.Context(), &out, append(bad, "--data", dir)...); err == nil {
			t.Errorf("hub %s succeeded", strings.Join(bad, " "))
		}
	}
	out.Reset()
	must("users", "list")
	for _, want := range []string{`(?m)^li\s+operator\s+active\s+huamu-1,huamu-2$`, `(?m)^zhao\s+building-lead\s+active\s+huamu-1 buildings 3,5$`,
		`(?m)^boss\s+admin\s+active\s+all$`} {
		if !regexp.MustCompile(want).MatchString(out.String()) {
			t.Errorf("users list =\n%s\nwant a line matching %s", out.String(), want)
		}
	}
	must("users", "scope", "zhao", "--sites", "huamu-1", "--buildings", "7,3")
	out.Reset()
	must("users", "list")
	if !regexp.MustCompile(`(?m)^zhao\s+building-lead\s+active\s+huamu-1 buildings 3,7$`).MatchString(out.String()) {
		t.Errorf("after a lead's new buildings, users list =\n%s", out.String())
	}
	must("users", "scope", "li", "--all")
	out.Reset()
	must("users", "list")
	if !regexp.MustCompile(`(?m)^li\s+operator\s+active\s+all$`).MatchString(out.String()) {
		t.Errorf("after --all, users list =\n%s", out.String())
	}
}
