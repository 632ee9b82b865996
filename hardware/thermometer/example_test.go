package thermometer_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/gatepost/gatepost/hardware/sim"
	"github.com/gatepost/gatepost/hardware/thermometer"
)

func ExampleOpen() {
	// A simulated module stands in for /dev/ttyUSB0 here.
	dev, err := sim.NewThermometer(sim.ThermometerOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer dev.Close()

	// driver = "gy-mcu90614" in kiosk.toml: the built-in profile.
	th, err := thermometer.Open(dev.Path(), thermometer.Settings{Driver: "gy-mcu90614"})
	if err != nil {
		log.Fatal(err)
	}
	defer th.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	r, err := th.Read(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("object %.2f °C, ambient %.2f °C\n", r.Object, r.Ambient)
	// Output: object 36.50 °C, ambient 25.00 °C
}

func ExampleFrameDecoder() {
	p, err := thermometer.LookupProfile("gy-mcu90614")
	if err != nil {
		log.Fatal(err)
	}
	d, err := thermometer.NewFrameDecoder(p)
	if err != nil {
		log.Fatal(err)
	}
	// Noise, then a frame that arrives in two reads.
	readings := d.FeedAll(nil, []byte{0x00, 0xFF, 0x5A, 0x5A, 0x45, 0x04})
	readings = d.FeedAll(readings, []byte{0x0E, 0x42, 0x09, 0xC4, 0x1A})
	for _, r := range readings {
		fmt.Printf("object %.2f °C, ambient %.2f °C\n", r.Object, r.Ambient)
	}
	fmt.Printf("%+v\n", d.Stats())
	// Output:
	// object 36.50 °C, ambient 25.00 °C
	// {Frames:1 BadChecksum:0 Garbage:2}
}
