package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/gatepost/gatepost/hardware/thermometer"
	"github.com/gatepost/gatepost/kiosk/journal"
	"github.com/spf13/cobra"
)

// maxSpread is how far apart calibration readings may be: more means the
// reference moved or the module was not aimed steadily.
const maxSpread = 0.5

func newCalibrateCmd() *cobra.Command {
	var by string
	var reference float64
	var readings int
	var interval time.Duration
	cmd := &cobra.Command{
		Use:   "calibrate --reference 36.8 --by NAME",
		Short: "Set the thermometer's offset against a reference source (stop the kiosk first)",
		Long: `Aim the thermometer at a reference source of known temperature (a black
body, or a forehead just measured with a clinical thermometer) and give that
temperature with --reference. The command averages several readings, and
records reference minus average as the kiosk's offset, with the time and who
did it, in the journal. The kiosk adds the offset to every reading from its
next start.`,
	}
	conf := addConfigFlag(cmd, "")
	cmd.Flags().Float64Var(&reference, "reference", 0, "the reference source's temperature in °C")
	cmd.Flags().StringVar(&by, "by", "", "who is calibrating (recorded)")
	cmd.Flags().IntVar(&readings, "readings", 5, "how many readings to average")
	cmd.Flags().DurationVar(&interval, "interval", 500*time.Millisecond, "time between readings")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if !cmd.Flags().Changed("reference") {
			return errors.New("give the reference temperature, e.g. --reference 36.8")
		}
		if by == "" {
			return errors.New("say who is calibrating, e.g. --by \"Wang Min\"")
		}
		if reference < 30 || reference > 45 {
			return fmt.Errorf("--reference %.2f: must be a body-like temperature between 30 and 45 °C", reference)
		}
		if readings < 1 || readings > 100 {
			return fmt.Errorf("--readings %d: must be 1 to 100", readings)
		}
		cfg, err := conf.load()
		if err != nil {
			return err
		}
		if cfg.Thermometer.Simulate {
			return errors.New("the configuration simulates the thermometer (simulate = true): there is nothing to calibrate")
		}
		th, s, port, err := openThermometer(cfg.Thermometer)
		if err != nil {
			return err
		}
		defer th.Close()
		out := cmd.OutOrStdout()
		fmt.Fprintf(out, "calibrating %s (%s) against %.2f °C: hold the reference steady\n", port, s.Driver, reference)
		values, err := collect(cmd.Context(), th, readings, interval, func(n int, v float64) {
			fmt.Fprintf(out, "%3d  %.2f °C\n", n, v)
		})
		if err != nil {
			return explain(err, port, s.BaudFor())
		}
		lo, hi, mean := spread(values)
		if hi-lo > maxSpread {
			return fmt.Errorf("readings range from %.2f to %.2f °C, more than %.1f apart: hold the module and the reference still and try again", lo, hi, maxSpread)
		}
		c := journal.Calibration{
			Time: time.Now(), OffsetC: math.Round((reference-mean)*100) / 100,
			ReferenceC: reference, ReadingsC: values, By: by,
		}
		if err := withJournal(cfg, readWrite, func(j *journal.Journal) error {
			return j.RecordCalibration(context.Background(), c)
		}); err != nil {
			return err
		}
		fmt.Fprintf(out, "average %.2f °C, reference %.2f °C: offset %+.2f °C recorded (by %s). Start the kiosk to apply it.\n", mean, reference, c.OffsetC, by)
		return nil
	}
	return cmd
}

// collect takes n readings of the value a gate judges (body if given,
// else object; no offset), allowing as many failed reads again.
func collect(ctx context.Context, th thermometer.Thermometer, n int, interval time.Duration, show func(int, float64)) ([]float64, error) {
	var values []float64
	var lastErr error
	for failures := 0; len(values) < n; {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		r, err := th.Read(rctx)
		cancel()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err != nil {
			lastErr = err
			if failures++; failures > n {
				return nil, fmt.Errorf("too many failed readings: %w", lastErr)
			}
			continue
		}
		v := r.Screened(0)
		values = append(values, v)
		show(len(values), v)
		if len(values) < n {
			t := time.NewTimer(interval)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil, ctx.Err()
			case <-t.C:
			}
		}
	}
	return values, nil
}

func spread(v []float64) (lo, hi, mean float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, x := range v {
		lo, hi, mean = min(lo, x), max(hi, x), mean+x
	}
	return lo, hi, mean / float64(len(v))
}
