//go:build race

package stages

// raceEnabled: the race detector instruments memory accesses and allocates for its own
// bookkeeping, so allocation counts mean nothing under it.
const raceEnabled = true
