package passes

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatepost/gatepost/internal/need"
	"github.com/gatepost/gatepost/protocol"
)

// issued returns a store with passes of every kind, including the longest
// unit and name a card is likely to carry.
func issued(t *testing.T) (*Store, []Pass) {
	t.Helper()
	s, _, _ := open(t)
	ctx := context.Background()
	if _, err := s.InitKey(ctx); err != nil {
		t.Fatal(err)
	}
	var list []Pass
	for _, r := range []Request{
		request("3-502", "王小明"),
		{Kind: protocol.PassTenant, Site: "huamu-1", Unit: "12-1804", Name: "欧阳小明", ValidFrom: t0, ValidUntil: t0.AddDate(1, 0, 0)},
		{Kind: protocol.PassVolunteer, Site: "huamu-1", Name: "李明", ValidFrom: t0, ValidUntil: t0.AddDate(0, 3, 0)},
		{Kind: protocol.PassStaff, Site: "jinqiao-residence-2", Unit: "B2-2201", Name: "Wang Xiaoming", ValidFrom: t0, ValidUntil: t0.AddDate(0, 3, 0)},
	} {
		p, err := s.Issue(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		list = append(list, p)
	}
	return s, list
}

// TestPrintedCodesDecode prints the passes and reads each PNG back with a
// real QR decoder (zbarimg): it must return the exact token.
func TestPrintedCodesDecode(t *testing.T) {
	zbarimg := need.Program(t, "zbarimg", "zbar-tools")
	_, list := issued(t)
	dir := t.TempDir()
	if err := WritePrintout(dir, list, time.UTC); err != nil {
		t.Fatal(err)
	}
	for _, p := range list {
		file := filepath.Join(dir, p.ID+".png")
		out, err := exec.Command(zbarimg, "--quiet", "--raw", "-Sbinary", file).Output()
		if err != nil {
			out, err = exec.Command(zbarimg, "--quiet", "--raw", file).Output()
		}
		if err != nil {
			t.Fatalf("zbarimg %s: %v", file, err)
		}
		if got := strings.TrimRight(string(out), "\r\n"); got != p.Token {
			t.Errorf("zbarimg read %q, want %q", got, p.Token)
		}
	}
}

// TestCodeFitsThirtyFiveMillimetres holds the format to its purpose: a
// pass's code at level Q stays small enough that each module of a 35 mm
// print is at least 0.45 mm, which cheap scanners read from worn cards.
func TestCodeFitsThirtyFiveMillimetres(t *testing.T) {
	_, list := issued(t)
	for _, p := range list {
		q, err := QRCode(p.Token)
		if err != nil {
			t.Fatal(err)
		}
		if mm := ModuleMM(q); q.VersionNumber > 10 || mm < 0.45 {
			t.Errorf("pass %s (%d characters): QR version %d, %.2f mm modules at 35 mm", p.ID, len(p.Token), q.VersionNumber, mm)
		} else {
			t.Logf("pass %s: %d characters, QR version %d at level Q, %.2f mm modules at 35 mm", p.ID, len(p.Token), q.VersionNumber, mm)
		}
	}
}

func TestSheet(t *testing.T) {
	_, list := issued(t)
	for len(list) <= CardsPerPage {
		list = append(list, list...)
	}
	var buf bytes.Buffer
	if err := WriteSheet(&buf, list, time.UTC); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	if n := strings.Count(html, `class="card"`); n != len(list) {
		t.Errorf("sheet has %d cards, want %d", n, len(list))
	}
	if n := strings.Count(html, `class="page"`); n != 2 {
		t.Errorf("sheet has %d pages, want 2", n)
	}
	for _, want := range []string{"3-502", "王*明", "有效至 valid until 2026-09-01", "size: A4", "width: 35mm", "志愿者 volunteer"} {
		if !strings.Contains(html, want) {
			t.Errorf("sheet lacks %q", want)
		}
	}
	if strings.Contains(html, "王小明") {
		t.Error("sheet shows the full name")
	}
}
