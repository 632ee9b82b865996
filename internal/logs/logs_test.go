package logs

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

func TestFormats(t *testing.T) {
	for _, tc := range []struct {
		format string
		json   bool
	}{{JSON, true}, {Text, false}, {Auto, true} /* a buffer is no terminal */, {"", true}} {
		var buf bytes.Buffer
		log, err := New(&buf, tc.format, slog.LevelInfo)
		if err != nil {
			t.Fatalf("New(%q) = %v", tc.format, err)
		}
		log.Info("hello", "kiosk", "gate-1")
		var v map[string]any
		isJSON := json.Unmarshal(buf.Bytes(), &v) == nil
		if isJSON != tc.json {
			t.Errorf("New(%q) wrote %q, JSON = %v, want %v", tc.format, buf.String(), isJSON, tc.json)
		}
	}
	if _, err := New(&bytes.Buffer{}, "xml", slog.LevelInfo); err == nil || !strings.Contains(err.Error(), Formats) {
		t.Errorf("New(xml) = %v, want an error naming %s", err, Formats)
	}
}

func TestSecretsRedacted(t *testing.T) {
	var buf bytes.Buffer
	log, _ := New(&buf, JSON, slog.LevelDebug)
	log.Info("login", "broker_password", "hunter2", "secret", "s3cr3t", "api-token", "tok", "enroll_code", "GPE1:x",
		slog.Group("tls", "private_key", "PEM"), "code", "A-1", "kiosk", "gate-1")
	out := buf.String()
	for _, s := range []string{"hunter2", "s3cr3t", `"tok"`, "GPE1:x", "PEM"} {
		if strings.Contains(out, s) {
			t.Errorf("log holds %q: %s", s, out)
		}
	}
	for _, s := range []string{"A-1", "gate-1"} {
		if !strings.Contains(out, s) {
			t.Errorf("log lost %q: %s", s, out)
		}
	}
}
