package scanner_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/gatepost/gatepost/hardware/scanner"
	"github.com/gatepost/gatepost/hardware/sim"
)

func ExampleOpenSerial() {
	// A simulated scanner stands in for /dev/ttyACM0 here.
	dev, err := sim.NewScanner(sim.ScannerOptions{Terminator: "\r"})
	if err != nil {
		log.Fatal(err)
	}
	defer dev.Close()

	s, err := scanner.OpenSerial(dev.Path(), 9600, scanner.SerialOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	if err := dev.Send("4006381333931"); err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	scan, err := s.Next(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(scan.Text)
	// Output: 4006381333931
}

func ExampleLineSplitter() {
	s := scanner.NewLineSplitter(0)
	// CRLF split across two reads is still one terminator.
	lines := s.Feed(nil, []byte("ABC-123\r"))
	lines = s.Feed(lines, []byte("\nXYZ\r\n"))
	for _, l := range lines {
		fmt.Printf("%q %v\n", l.Text, l.Err)
	}
	// Output:
	// "ABC-123" <nil>
	// "XYZ" <nil>
}
