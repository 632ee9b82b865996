// Package logs builds the programs' loggers from the --log-format flag:
// JSON lines for journald and log shippers, or slog's text for a person
// at a terminal (the programs' default, so that nothing changes for
// whoever reads their output today); "auto" picks text when the output
// is a terminal and JSON otherwise.
//
// Secrets are kept out of logs by never passing them to a logger; as a
// second line of defence the handler replaces the value of any
// attribute whose key names a secret (Secret) with "[redacted]".
//
// The kiosk's and the hub's programs import it.
package logs

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
)

// The formats --log-format accepts.
const (
	Auto = "auto"
	JSON = "json"
	Text = "text"
)

// Formats lists the accepted values, for a flag's usage.
const Formats = "auto|json|text"

// New returns a logger writing format to w at level. An unknown format
// is an error naming the accepted ones.
func New(w io.Writer, format string, level slog.Level) (*slog.Logger, error) {
	opts := &slog.HandlerOptions{Level: level, ReplaceAttr: redact}
	switch format {
	case Auto, "":
		if isTerminal(w) {
			return slog.New(slog.NewTextHandler(w, opts)), nil
		}
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case JSON:
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case Text:
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: use one of %s", format, Formats)
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// secretKeys are attribute keys, or the last word of one ("broker_password"),
// whose values are never written.
var secretKeys = map[string]bool{
	"password": true, "passwd": true, "secret": true, "token": true,
	"code":        false, // a scanned code is not secret; an enrollment code is: enroll_code
	"enroll_code": true, "private_key": true, "privatekey": true, "credentials": true,
}

// Secret reports whether an attribute with this key is redacted.
func Secret(key string) bool {
	k := strings.ToLower(key)
	if secretKeys[k] {
		return true
	}
	if i := strings.LastIndexAny(k, "_-."); i >= 0 {
		return secretKeys[k[i+1:]]
	}
	return false
}

func redact(_ []string, a slog.Attr) slog.Attr {
	if Secret(a.Key) {
		return slog.String(a.Key, "[redacted]")
	}
	return a
}
