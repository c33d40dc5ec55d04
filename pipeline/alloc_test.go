package pipeline_test

import (
	"testing"
)

// TestAllocsPerItem: a run's allocations are a fixed cost: they do not grow with the number of
// items (no allocation per item in steady state), and the fixed cost stays small.
func TestAllocsPerItem(t *testing.T) {
	if testing.Short() {
		t.Skip("timing-independent but slow-ish")
	}
	allocs := func(items int) float64 {
		return testing.AllocsPerRun(5, func() {
			if err := runChain(items); err != nil {
				t.Fatal(err)
			}
		})
	}
	small, large := allocs(100), allocs(20000)
	t.Logf("allocations per run: %.0f for 100 items, %.0f for 20000 items", small, large)
	if large-small > 20 {
		t.Errorf("allocations grow with items: %.0f for 100 items, %.0f for 20000", small, large)
	}
	if small > 400 {
		t.Errorf("%.0f allocations to build and run a 5-stage graph; want < 400", small)
	}
}
