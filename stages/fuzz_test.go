package stages

import (
	"slices"
	"testing"
)

// FuzzResume checks, for any plan (mode, buffer, shard sizes) and any position a
// checkpoint may hold, that Plan.Resume either refuses the position or rebuilds a state
// whose continuation is exactly the tail of the epoch's uninterrupted order.
func FuzzResume(f *testing.F) {
	f.Add(uint64(1), uint8(1), uint16(4), []byte{5, 5, 5}, uint8(1), int64(6))
	f.Add(uint64(7), uint8(0), uint16(0), []byte{0, 3, 0, 9}, uint8(0), int64(12))
	f.Add(uint64(3), uint8(2), uint16(0), []byte{1}, uint8(200), int64(1))
	f.Add(uint64(9), uint8(3), uint16(100), []byte{40, 1, 17}, uint8(2), int64(-1))
	f.Add(uint64(0), uint8(1), uint16(1), []byte{}, uint8(0), int64(0))
	modes := []ShuffleMode{ShuffleFull, ShuffleBuffer, ShuffleShards, ShuffleNone}
	f.Fuzz(func(t *testing.T, seed uint64, mode uint8, buffer uint16, shards []byte, epoch uint8, emitted int64) {
		if len(shards) > 64 {
			shards = shards[:64]
		}
		sizes := make([]int64, len(shards))
		for i, s := range shards {
			sizes[i] = int64(s)
		}
		p, err := NewPlan(seed, modes[int(mode)%len(modes)], int(buffer), sizes)
		if err != nil {
			if modes[int(mode)%len(modes)] == ShuffleBuffer && buffer == 0 {
				return
			}
			t.Fatal(err)
		}
		r, err := p.Resume(Position{Epoch: int(epoch), Emitted: emitted})
		if err != nil {
			if emitted >= 0 && emitted <= p.Rows() {
				t.Fatalf("Resume refused a valid position: %v", err)
			}
			return
		}
		if got, want := continueFrom(t, p, r), p.Order(int(epoch))[emitted:]; !slices.Equal(got, want) {
			t.Fatalf("resumed tail %v, want %v", got, want)
		}
	})
}
