package thermometer_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/gatepost/gatepost/hardware/sim"
	"github.com/gatepost/gatepost/hardware/thermometer"
)

func ExampleOpenGYMCU90614() {
	// A simulated module stands in for /dev/ttyUSB0 here.
	dev, err := sim.NewThermometer(sim.ThermometerOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer dev.Close()

	th, err := thermometer.OpenGYMCU90614(dev.Path(), thermometer.GYOptions{})
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

func ExampleGYDecoder() {
	var d thermometer.GYDecoder
	// Noise, then a frame that arrives in two reads.
	frames := d.Feed(nil, []byte{0x00, 0xFF, 0x5A, 0x5A, 0x45, 0x04})
	frames = d.Feed(frames, []byte{0x0E, 0x42, 0x09, 0xC4, 0x1A})
	for _, f := range frames {
		fmt.Printf("object %.2f °C, ambient %.2f °C\n", f.Object(), f.Ambient())
	}
	fmt.Printf("%+v\n", d.Stats())
	// Output:
	// object 36.50 °C, ambient 25.00 °C
	// {Frames:1 BadChecksum:0 Garbage:2}
}
