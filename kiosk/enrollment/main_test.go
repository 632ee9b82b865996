package enrollment

import (
	"testing"

	"go.uber.org/goleak"
)

// Redeem's HTTPS client must leave no connection behind.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
