//go:build race

package ops

// raceEnabled: the race detector makes sync.Pool drop items at random (the SGEMM's packing buffers
// come from one), so allocation counts mean nothing under it.
const raceEnabled = true
