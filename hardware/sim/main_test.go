package sim_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/gatepost/gatepost/hardware/serialport"
	"go.uber.org/goleak"
)

// helperEnv, when set to a port path, turns the test binary into a driver
// process that opens the port and waits to be killed.
const helperEnv = "GATEPOST_SIM_HELPER_OPEN"

func TestMain(m *testing.M) {
	if path := os.Getenv(helperEnv); path != "" {
		if _, err := serialport.Open(path, serialport.Config{}); err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		fmt.Println("open")
		select {} // until killed
	}
	goleak.VerifyTestMain(m)
}
