package daemon

import (
	"testing"

	"go.uber.org/goleak"
)

// paho's client leaves goroutines behind after Disconnect from a broker
// it never reached (the tests run the gate offline); ours are checked.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreAnyFunction("github.com/eclipse/paho%2emqtt%2egolang.(*client).Connect.func1"),
		goleak.IgnoreAnyFunction("github.com/eclipse/paho%2emqtt%2egolang.(*client).Disconnect.func1"),
	)
}
