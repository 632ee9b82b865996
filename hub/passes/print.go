package passes

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/skip2/go-qrcode"
)

// Printing: a pass is a 35 mm QR code at error correction level Q
// (go-qrcode calls it High: 25% of the code may be lost, to a fold, a
// scratch or a thumb), with the 4-module quiet zone the standard asks for.
const (
	PrintMM       = 35.0 // printed width of the code, quiet zone included
	pixelsPerCell = 8    // PNG resolution: 8 px per module prints sharp at 35 mm
)

// QRCode encodes token for printing.
func QRCode(token string) (*qrcode.QRCode, error) {
	q, err := qrcode.New(token, qrcode.High)
	if err != nil {
		return nil, fmt.Errorf("QR code: %w", err)
	}
	return q, nil
}

// ModuleMM is the printed size of one module of q at PrintMM. Scanners at
// gates read 0.3 mm modules at hand's length; larger is kinder to worn
// cards and cheap printers.
func ModuleMM(q *qrcode.QRCode) float64 {
	return PrintMM / float64(17+4*q.VersionNumber+8)
}

// PNG is token's QR code as a PNG image.
func PNG(token string) ([]byte, error) {
	q, err := QRCode(token)
	if err != nil {
		return nil, err
	}
	return q.PNG(-pixelsPerCell)
}

// WritePrintout writes one PNG per pass (<id>.png) and sheet.html, an A4
// sheet of cards to print from a browser, into dir.
//
// The sheet is HTML rather than an image because the cards carry Chinese
// names and units: a browser has CJK fonts where Go's image packages have
// none, and CSS millimetres print the codes at exactly PrintMM.
func WritePrintout(dir string, list []Pass, loc *time.Location) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	for _, p := range list {
		img, err := PNG(p.Token)
		if err != nil {
			return fmt.Errorf("pass %s: %w", p.ID, err)
		}
		if err := os.WriteFile(filepath.Join(dir, p.ID+".png"), img, 0o640); err != nil {
			return err
		}
	}
	var buf bytes.Buffer
	if err := WriteSheet(&buf, list, loc); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "sheet.html"), buf.Bytes(), 0o640)
}

// CardsPerPage is how many cards fit an A4 page: 3 across, 4 down.
const CardsPerPage = 12

type card struct {
	Pass
	Image template.URL
	Until string
	Kind  string
}

var kindZH = map[string]string{"resident": "住户", "tenant": "租户", "staff": "工作人员", "volunteer": "志愿者"}

// WriteSheet writes the printable A4 sheet of cards for list.
func WriteSheet(w io.Writer, list []Pass, loc *time.Location) error {
	if loc == nil {
		loc = Zone
	}
	var pages [][]card
	for i, p := range list {
		img, err := PNG(p.Token)
		if err != nil {
			return fmt.Errorf("pass %s: %w", p.ID, err)
		}
		if i%CardsPerPage == 0 {
			pages = append(pages, nil)
		}
		// Valid until is exclusive: a pass "until 2026-07-01 00:00" is good
		// through 2026-06-30, which is what the card says.
		c := card{Pass: p, Image: template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(img)),
			Until: p.ValidUntil.In(loc).Add(-time.Second).Format("2006-01-02"),
			Kind:  kindZH[string(p.Kind)] + " " + string(p.Kind)}
		pages[len(pages)-1] = append(pages[len(pages)-1], c)
	}
	return sheet.Execute(w, pages)
}

var sheet = template.Must(template.New("sheet").Parse(`<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>出入证 · Entry passes</title>
<style>
@page { size: A4; margin: 10mm; }
* { box-sizing: border-box; }
body { margin: 0; font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif; }
.page { width: 190mm; height: 277mm; display: grid; grid-template-columns: repeat(3, 1fr); grid-template-rows: repeat(4, 1fr); page-break-after: always; }
.page:last-child { page-break-after: auto; }
.card { border: 0.2mm dashed #999; padding: 3mm; text-align: center; overflow: hidden; }
.card img { width: 35mm; height: 35mm; image-rendering: pixelated; display: block; margin: 0 auto 2mm; }
.unit { font-size: 6mm; font-weight: bold; }
.name { font-size: 5mm; }
.meta { font-size: 2.8mm; color: #333; margin-top: 1mm; }
.id { font-family: monospace; font-size: 2.8mm; }
</style>
</head>
<body>
{{range .}}<div class="page">
{{range .}}<div class="card">
<img src="{{.Image}}" alt="{{.ID}}">
<div class="unit">{{if .Unit}}{{.Unit}}{{else}}{{.Kind}}{{end}}</div>
<div class="name">{{.Name}}</div>
<div class="meta">{{.Site}} · {{.Kind}} · 有效至 valid until {{.Until}}</div>
<div class="id">{{.ID}}</div>
</div>
{{end}}</div>
{{end}}</body>
</html>
`))
