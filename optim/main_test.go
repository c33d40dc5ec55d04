package optim

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that no test leaves a goroutine behind: SetThreads' split
// kernels must have joined their goroutines when they return.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
