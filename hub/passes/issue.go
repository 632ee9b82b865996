package passes

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gatepost/gatepost/hub/sqlstore"
	"github.com/gatepost/gatepost/protocol"
)

// Request asks for one pass. Name may be the full name: only its masked
// form (MaskName) is stored and printed.
type Request struct {
	Kind       protocol.PassKind
	Site       string
	Unit       string
	Name       string
	ValidFrom  time.Time
	ValidUntil time.Time
}

// Pass is an issued pass as the hub keeps it.
type Pass struct {
	protocol.Pass
	Token       string              `json:"token"`                  // the signed text in the QR code
	Issued      time.Time           `json:"issued"`                 // hub clock
	Status      protocol.PassStatus `json:"status,omitempty"`       // "" when in good standing
	StatusUntil *time.Time          `json:"status_until,omitempty"` // end of home observation
	Reason      string              `json:"reason,omitempty"`       // why revoked or marked
}

// MaskName keeps what a guard needs to match a face to a card and no more:
// the first and last character, the rest starred ("王小明" -> "王*明",
// "欧阳小明" -> "欧**明", "李明" -> "李*"). A name that already holds a '*'
// is taken as masked. The result is cut to fit a pass.
func MaskName(name string) string {
	name = strings.Join(strings.FieldsFunc(name, func(r rune) bool { return !unicode.IsPrint(r) || unicode.IsSpace(r) }), " ")
	if strings.Contains(name, "*") {
		return cut(name, protocol.MaxPassName)
	}
	r := []rune(name)
	switch n := len(r); {
	case n == 0:
		return ""
	case n == 1:
		return name
	case n == 2:
		return string(r[0]) + "*"
	default:
		stars := min(n-2, 3)
		return cut(string(r[0])+strings.Repeat("*", stars)+string(r[n-1]), protocol.MaxPassName)
	}
}

// cut shortens s to at most n bytes on a character boundary.
func cut(s string, n int) string {
	for len(s) > n {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
}

var kindLetter = map[protocol.PassKind]string{
	protocol.PassResident: "R", protocol.PassTenant: "T", protocol.PassStaff: "S", protocol.PassVolunteer: "V",
}

// Issue signs and records one pass with the current key.
func (s *Store) Issue(ctx context.Context, req Request) (Pass, error) {
	var out Pass
	err := s.db.Tx(ctx, func(tx sqlstore.Tx) error {
		p, err := s.issue(ctx, tx, req)
		out = p
		return err
	})
	return out, err
}

// idDraws is how many pass ids issue tries: 7 random characters give 34
// bits, so a clash is rare but possible in a subdistrict's tens of
// thousands of passes, and ten in a row is not.
const idDraws = 10

func (s *Store) issue(ctx context.Context, tx sqlstore.Tx, req Request) (Pass, error) {
	if err := req.Check(); err != nil {
		return Pass{}, err
	}
	keyID, priv, err := s.signer(ctx, tx)
	if err != nil {
		return Pass{}, err
	}
	now := s.now().UTC().Truncate(time.Second)
	p := Pass{Pass: protocol.Pass{
		Key: keyID, Kind: req.Kind, Site: req.Site,
		Unit: strings.TrimSpace(req.Unit), Name: MaskName(req.Name),
		ValidFrom: req.ValidFrom.UTC().Truncate(time.Second), ValidUntil: req.ValidUntil.UTC().Truncate(time.Second),
	}, Issued: now}
	// An id is taken by inserting it: an id already issued, or being
	// issued by another hub on the same database, inserts nothing, and
	// another is drawn. (Looking first and inserting after would let two
	// hubs take one id between the look and the insert.)
	for range idDraws {
		p.ID = kindLetter[req.Kind] + s.draw(7)
		if p.Token, err = protocol.SignPass(p.Pass, priv); err != nil {
			return Pass{}, fmt.Errorf("%w: %v", ErrBadRequest, err)
		}
		res, err := tx.Exec(ctx, `INSERT INTO passes (id, key, kind, site, unit, name, valid_from, valid_until, token, issued)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`, p.ID, p.Key, string(p.Kind), p.Site, p.Unit, p.Name,
			unix(p.ValidFrom), unix(p.ValidUntil), p.Token, unix(now))
		if err != nil {
			return Pass{}, fmt.Errorf("record pass %s: %w", p.ID, err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return p, err
		}
	}
	return Pass{}, fmt.Errorf("no unused pass id after %d draws", idDraws)
}

// Row is one request read from a CSV of households, with its line.
type Row struct {
	Line int // 2 for the first row after the header
	Request
}

// LineError names the CSV line a bad row is on; Err is usually a
// *FieldError naming the column.
type LineError struct {
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("CSV line %d: %v", e.Line, e.Err) }

func (e *LineError) Unwrap() error { return e.Err }

// ParseCSV reads one request per row of a CSV with a header row. Columns
// (any order): unit, name, and optionally kind, site, valid_from,
// valid_until (days like 2006-01-02, in loc). Missing values come from
// def. Every row is checked (Request.Check); the first bad one is a
// *LineError naming its line and column. A UTF-8 BOM (Excel) is accepted.
func ParseCSV(r io.Reader, def Request, loc *time.Location) ([]Row, error) {
	cr := csv.NewReader(r)
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("%w: CSV header: %v", ErrBadRequest, err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	if _, ok := col["unit"]; !ok {
		return nil, fmt.Errorf("%w: CSV header needs a unit column (and usually name), got %q", ErrBadRequest, header)
	}
	var rows []Row
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, &LineError{line, fmt.Errorf("%w: %v", ErrBadRequest, err)}
		}
		line, _ = cr.FieldPos(0) // the file's line, should a quoted field span lines
		get := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		req := def
		req.Unit, req.Name = get("unit"), get("name")
		if v := get("kind"); v != "" {
			req.Kind = protocol.PassKind(strings.ToLower(v))
		}
		if v := get("site"); v != "" {
			req.Site = v
		}
		for _, d := range []struct {
			name string
			to   *time.Time
			end  bool
		}{{"valid_from", &req.ValidFrom, false}, {"valid_until", &req.ValidUntil, true}} {
			if v := get(d.name); v != "" {
				if *d.to, err = ParseDate(v, d.end, loc); err != nil {
					return nil, &LineError{line, fieldErr(d.name, "%v", err)}
				}
			}
		}
		if err := req.Check(); err != nil {
			// The file's columns are valid_from and valid_until.
			if fe, ok := AsFieldError(err); ok && (fe.Field == "from" || fe.Field == "until") {
				err = &FieldError{Field: "valid_" + fe.Field, Msg: fe.Msg}
			}
			return nil, &LineError{line, err}
		}
		rows = append(rows, Row{Line: line, Request: req})
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%w: the CSV has a header but no rows", ErrBadRequest)
	}
	return rows, nil
}

// IssueRows issues a pass per row in one transaction: a row that fails
// issues nothing, and the error names its line.
func (s *Store) IssueRows(ctx context.Context, rows []Row) ([]Pass, error) {
	var out []Pass
	err := s.db.Tx(ctx, func(tx sqlstore.Tx) error {
		for _, row := range rows {
			p, err := s.issue(ctx, tx, row.Request)
			if err != nil {
				if errors.Is(err, ErrBadRequest) {
					return &LineError{row.Line, err}
				}
				return fmt.Errorf("CSV line %d: %w", row.Line, err)
			}
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// IssueCSV issues one pass per row of a CSV (see ParseCSV), all in one
// transaction: a bad row issues nothing and names its line.
func (s *Store) IssueCSV(ctx context.Context, r io.Reader, def Request, loc *time.Location) ([]Pass, error) {
	rows, err := ParseCSV(r, def, loc)
	if err != nil {
		return nil, err
	}
	return s.IssueRows(ctx, rows)
}

// ParseDate reads a date like 2026-06-30 in loc: its start, or with end
// its end (the start of the next day), so "valid until 2026-06-30"
// includes that whole day.
func ParseDate(s string, end bool, loc *time.Location) (time.Time, error) {
	t, err := time.ParseInLocation(time.DateOnly, s, loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a date like 2026-06-30", s)
	}
	if end {
		t = t.AddDate(0, 0, 1)
	}
	return t, nil
}
