package journal

import (
	"context"
	"testing"
)

func TestCalibrationRecordAndRead(t *testing.T) {
	j, path := openTemp(t)
	ctx := context.Background()
	if _, ok, err := j.CurrentCalibration(ctx); ok || err != nil {
		t.Fatalf("CurrentCalibration() on a new journal = %v, %v; want none", ok, err)
	}
	first := Calibration{Time: t0, OffsetC: 0.3, ReferenceC: 36.8, ReadingsC: []float64{36.5, 36.5}, By: "Wang"}
	second := Calibration{Time: t0.Add(3600e9), OffsetC: -0.1, ReferenceC: 36.8, ReadingsC: []float64{36.9}, By: "Li"}
	for _, c := range []Calibration{first, second} {
		if err := j.RecordCalibration(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	c, ok, err := j.CurrentCalibration(ctx)
	if err != nil || !ok || c.OffsetC != -0.1 || c.By != "Li" || !c.Time.Equal(second.Time) || len(c.ReadingsC) != 1 {
		t.Fatalf("CurrentCalibration() = %+v, %v, %v; want the second", c, ok, err)
	}

	// A read-only handle (kiosk status) sees it too.
	ro, err := OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	all, err := ro.Calibrations(ctx)
	if err != nil || len(all) != 2 || all[1].By != "Wang" {
		t.Fatalf("Calibrations() = %+v, %v; want both, newest first", all, err)
	}
}

func TestCalibrationRejects(t *testing.T) {
	j, _ := openTemp(t)
	for _, c := range []Calibration{{OffsetC: 11, By: "x"}, {OffsetC: 0.1}} {
		if err := j.RecordCalibration(context.Background(), c); err == nil {
			t.Errorf("RecordCalibration(%+v) = nil, want an error", c)
		}
	}
}
