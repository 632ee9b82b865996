package journal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Calibration is one calibration of the kiosk's thermometer against a
// reference source (a black body or a clinical thermometer's reading):
// the offset the kiosk adds to every reading from then on.
type Calibration struct {
	Time       time.Time `json:"time"`
	OffsetC    float64   `json:"offset_c"`    // reference minus the mean of the readings
	ReferenceC float64   `json:"reference_c"` // what the reference source showed
	ReadingsC  []float64 `json:"readings_c"`  // the module's values that were averaged
	By         string    `json:"by"`          // who calibrated
}

// The table is created on first use rather than in the schema, so a
// journal written before calibration existed needs no migration.
const calibrationSchema = `
CREATE TABLE IF NOT EXISTS calibration (
	id        INTEGER PRIMARY KEY,
	time      TEXT NOT NULL,
	offset_c  REAL NOT NULL,
	reference REAL NOT NULL,
	readings  TEXT NOT NULL,
	by_whom   TEXT NOT NULL
);`

// RecordCalibration stores c; it becomes the kiosk's offset.
func (j *Journal) RecordCalibration(ctx context.Context, c Calibration) error {
	if c.OffsetC < -10 || c.OffsetC > 10 || c.OffsetC != c.OffsetC {
		return fmt.Errorf("record calibration: offset %.2f °C is outside -10..10: check the reference and that the module is aimed at it", c.OffsetC)
	}
	if strings.TrimSpace(c.By) == "" {
		return errors.New("record calibration: say who calibrated")
	}
	readings, err := json.Marshal(c.ReadingsC)
	if err != nil {
		return fmt.Errorf("record calibration: %w", err)
	}
	if _, err := j.db.ExecContext(ctx, calibrationSchema); err != nil {
		return fmt.Errorf("record calibration: %w", err)
	}
	if _, err := j.db.ExecContext(ctx, `INSERT INTO calibration (time, offset_c, reference, readings, by_whom) VALUES (?, ?, ?, ?, ?)`,
		c.Time.UTC().Format(time.RFC3339Nano), c.OffsetC, c.ReferenceC, string(readings), c.By); err != nil {
		return fmt.Errorf("record calibration: %w", err)
	}
	return nil
}

// Calibrations returns every calibration, newest first.
func (j *Journal) Calibrations(ctx context.Context) ([]Calibration, error) {
	rows, err := j.db.QueryContext(ctx, `SELECT time, offset_c, reference, readings, by_whom FROM calibration ORDER BY id DESC`)
	if err != nil {
		if strings.Contains(err.Error(), "no such table") {
			return nil, nil // never calibrated
		}
		return nil, fmt.Errorf("read calibrations: %w", err)
	}
	defer rows.Close()
	var out []Calibration
	for rows.Next() {
		var c Calibration
		var at, readings string
		if err := rows.Scan(&at, &c.OffsetC, &c.ReferenceC, &readings, &c.By); err != nil {
			return nil, fmt.Errorf("read calibrations: %w", err)
		}
		if c.Time, err = time.Parse(time.RFC3339Nano, at); err != nil {
			return nil, fmt.Errorf("read calibrations: time %q: %w", at, err)
		}
		if err := json.Unmarshal([]byte(readings), &c.ReadingsC); err != nil {
			return nil, fmt.Errorf("read calibrations: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// CurrentCalibration returns the latest calibration; ok is false if the
// kiosk was never calibrated (offset 0).
func (j *Journal) CurrentCalibration(ctx context.Context) (c Calibration, ok bool, err error) {
	all, err := j.Calibrations(ctx)
	if err != nil || len(all) == 0 {
		return Calibration{}, false, err
	}
	return all[0], true, nil
}
