package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

func TestTokensCommands(t *testing.T) {
	dir := t.TempDir()
	ctx := t.Context()
	var out bytes.Buffer
	if err := run(t, ctx, &out, "users", "add", "li", "--data", dir); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := run(t, ctx, &out, "tokens", "add", "nightly", "--user", "li", "--data", dir); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^gpt_[0-9a-f]{64}$`).MatchString(out.String()) {
		t.Errorf("tokens add printed %q, want the token on a line of its own", out.String())
	}
	for _, bad := range [][]string{{"tokens", "add", "x"}, {"tokens", "add", "nightly", "--user", "li"},
		{"tokens", "add", "y", "--user", "nobody"}, {"tokens", "revoke", "nothing"}} {
		if err := run(t, ctx, &bytes.Buffer{}, append(bad, "--data", dir)...); err == nil {
			t.Errorf("hub %s succeeded", strings.Join(bad, " "))
		}
	}
	out.Reset()
	if err := run(t, ctx, &out, "tokens", "list", "--data", dir); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^nightly\s+li\s+operator\s+all compounds\s+\S+\s+never$`).MatchString(out.String()) || strings.Contains(out.String(), "gpt_") {
		t.Errorf("tokens list printed %q", out.String())
	}
	// A token reads what its user may see: the list says how far that is.
	if err := run(t, ctx, &bytes.Buffer{}, "users", "scope", "li", "--sites", "huamu-1,huamu-2", "--data", dir); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := run(t, ctx, &out, "tokens", "list", "--data", dir); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^nightly\s+li\s+operator\s+huamu-1,huamu-2\s+\S+\s+never$`).MatchString(out.String()) {
		t.Errorf("tokens list of a scoped user's token printed %q", out.String())
	}
	out.Reset()
	if err := run(t, ctx, &out, "tokens", "list", "--json", "--data", dir); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`"sites": \[\s*"huamu-1",\s*"huamu-2"\s*\]`).MatchString(out.String()) {
		t.Errorf("tokens list --json printed %q, want the sites", out.String())
	}
	if err := run(t, ctx, &out, "tokens", "revoke", "nightly", "--data", dir); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	run(t, ctx, &out, "tokens", "list", "--data", dir)
	if strings.Contains(out.String(), "nightly") {
		t.Errorf("after revoke, list printed %q", out.String())
	}
}
