package stages

import (
	"fmt"
	"slices"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"
)

// shardSizes returns n shards of size rows each, the last one holding the rest of total.
func shardSizes(total, size int64) []int64 {
	var s []int64
	for left := total; left > 0; left -= size {
		s = append(s, min(size, left))
	}
	return s
}

func mustPlan(t testing.TB, seed uint64, mode ShuffleMode, buffer int, shards []int64) *Plan {
	t.Helper()
	p, err := NewPlan(seed, mode, buffer, shards)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func isPermutation(order []int64, n int64) bool {
	if int64(len(order)) != n {
		return false
	}
	s := slices.Clone(order)
	slices.Sort(s)
	for i, v := range s {
		if v != int64(i) {
			return false
		}
	}
	return true
}

func TestPlanOrder(t *testing.T) {
	shards := []int64{7, 0, 13, 5, 20, 1}
	for _, tc := range []struct {
		mode        ShuffleMode
		buffer      int
		fileOrder   bool // epoch order equals file order
		shardsMoved bool // shard order differs from file order in some epoch
	}{
		{ShuffleNone, 0, true, false},
		{ShuffleShards, 0, false, true},
		{ShuffleBuffer, 4, false, true},
		{ShuffleBuffer, 1, false, true}, // a buffer of one row keeps rows in input order
		{ShuffleFull, 0, false, false},
	} {
		t.Run(fmt.Sprintf("%s/%d", tc.mode, tc.buffer), func(t *testing.T) {
			p := mustPlan(t, 42, tc.mode, tc.buffer, shards)
			if p.Rows() != 46 {
				t.Fatalf("Rows = %d, want 46", p.Rows())
			}
			moved := false
			for e := range 5 {
				o := p.Order(e)
				if !isPermutation(o, p.Rows()) {
					t.Fatalf("epoch %d: order %v is not a permutation of 0..45", e, o)
				}
				inFileOrder := slices.IsSorted(o)
				if inFileOrder != tc.fileOrder {
					t.Errorf("epoch %d: in file order = %v, want %v (%v)", e, inFileOrder, tc.fileOrder, o)
				}
				if !slices.IsSorted(p.ShardOrder(e)) {
					moved = true
				}
				if !slices.Equal(o, p.Order(e)) {
					t.Fatalf("epoch %d: two calls gave different orders", e)
				}
			}
			if moved != tc.shardsMoved {
				t.Errorf("shard order moved = %v, want %v", moved, tc.shardsMoved)
			}
		})
	}
}

func TestPlanSeedsAndEpochs(t *testing.T) {
	shards := shardSizes(1000, 100)
	for _, mode := range []ShuffleMode{ShuffleShards, ShuffleBuffer, ShuffleFull} {
		t.Run(string(mode), func(t *testing.T) {
			a := mustPlan(t, 1, mode, 128, shards)
			b := mustPlan(t, 1, mode, 128, shards)
			c := mustPlan(t, 2, mode, 128, shards)
			seen := map[string]int{}
			for e := range 10 {
				oa := a.Order(e)
				if !slices.Equal(oa, b.Order(e)) {
					t.Fatalf("epoch %d: same seed, different orders", e)
				}
				if slices.Equal(oa, c.Order(e)) {
					t.Fatalf("epoch %d: seeds 1 and 2 give the same order", e)
				}
				key := fmt.Sprint(oa)
				if prev, ok := seen[key]; ok {
					t.Fatalf("epochs %d and %d have the same order", prev, e)
				}
				seen[key] = e
			}
		})
	}
}

// TestFullShuffleUniform checks that over 1,000 epochs of 100 rows each row's
// position is uniform: one chi-squared test per row, 99 degrees of freedom.
func TestFullShuffleUniform(t *testing.T) {
	const rows, epochs = 100, 1000
	p := mustPlan(t, 7, ShuffleFull, 0, shardSizes(rows, 30))
	orders := make([][]int64, epochs)
	for e := range orders {
		orders[e] = p.Order(e)
	}
	checkUniformPositions(t, orders, rows)

	// The same statistic rejects a mode that does not shuffle rows: the test can fail.
	q := mustPlan(t, 7, ShuffleShards, 0, shardSizes(rows, 30))
	for e := range orders {
		orders[e] = q.Order(e)
	}
	if worst := positionPValues(orders, rows)[0]; worst > 0.001 {
		t.Errorf("shards mode: smallest p-value %.3g; the test cannot fail", worst)
	}
}

// positionPValues returns, sorted ascending, the p-value of a chi-squared test of
// uniform position for each row over the given epoch orders.
func positionPValues(orders [][]int64, rows int) []float64 {
	counts := make([][]int, rows) // counts[row][position]
	for id := range counts {
		counts[id] = make([]int, rows)
	}
	for _, o := range orders {
		for pos, id := range o {
			counts[id][pos]++
		}
	}
	chi := distuv.ChiSquared{K: float64(rows - 1)}
	expected := float64(len(orders)) / float64(rows)
	ps := make([]float64, rows)
	for id := range rows {
		var x2 float64
		for _, n := range counts[id] {
			d := float64(n) - expected
			x2 += d * d / expected
		}
		ps[id] = 1 - chi.CDF(x2)
	}
	slices.Sort(ps)
	return ps
}

// checkUniformPositions fails the test for each row whose position is not uniform at
// p > 0.001.
func checkUniformPositions(t *testing.T, orders [][]int64, rows int) {
	t.Helper()
	ps := positionPValues(orders, rows)
	for _, p := range ps {
		if p <= 0.001 {
			t.Errorf("a row's position is not uniform: chi-squared p = %.2g (p-values %v...)", p, ps[:5])
			break
		}
	}
	t.Logf("smallest p over %d rows: %.3g", rows, ps[0])
}

// TestResumeReplay checks that the state Resume rebuilds from indices, continued
// with the same buffer code, gives the tail of the uninterrupted order.
func TestResumeReplay(t *testing.T) {
	shards := []int64{9, 1, 17, 4, 0, 12, 8}
	for _, tc := range []struct {
		mode   ShuffleMode
		buffer int
	}{{ShuffleNone, 0}, {ShuffleShards, 0}, {ShuffleBuffer, 1}, {ShuffleBuffer, 6}, {ShuffleBuffer, 100}, {ShuffleFull, 0}} {
		t.Run(fmt.Sprintf("%s/%d", tc.mode, tc.buffer), func(t *testing.T) {
			p := mustPlan(t, 3, tc.mode, tc.buffer, shards)
			for e := range 3 {
				full := p.Order(e)
				for at := int64(0); at <= p.Rows(); at++ {
					r, err := p.Resume(Position{Epoch: e, Emitted: at})
					if err != nil {
						t.Fatal(err)
					}
					tail := continueFrom(t, p, r)
					if !slices.Equal(tail, full[at:]) {
						t.Fatalf("epoch %d resumed at %d: got %v, want %v", e, at, tail, full[at:])
					}
				}
			}
		})
	}
	p := mustPlan(t, 3, ShuffleBuffer, 4, shards)
	for _, pos := range []Position{{-1, 0}, {0, -1}, {0, p.Rows() + 1}} {
		if _, err := p.Resume(pos); err == nil {
			t.Errorf("Resume(%+v): no error", pos)
		}
	}
}

// continueFrom runs the tasks of r over row ids as the shuffler would (refill rows
// into their slots, then the remaining input) and returns the emitted ids.
func continueFrom(t *testing.T, p *Plan, r *Resume) []int64 {
	t.Helper()
	var out []int64
	tasks := r.Tasks()
	if p.Buffer() == 0 {
		for _, task := range tasks {
			if task.Refill {
				t.Fatal("refill task without a buffer")
			}
			if task.End {
				break
			}
			for off := task.Skip; off < p.ShardRows(task.Shard); off++ {
				out = append(out, p.ShardFirst(task.Shard)+off)
			}
		}
		return out
	}
	rb, err := r.rowBuffer()
	if err != nil {
		t.Fatal(err)
	}
	b := rowBuffer[int64]{k: rb.k, rng: rb.rng, slots: make([]int64, len(rb.slots))}
	slot := map[int64]int{}
	for i, id := range r.slots {
		slot[id] = i
	}
	refilled := 0
	for _, task := range tasks {
		switch {
		case task.End:
			if refilled != len(r.slots) {
				t.Fatalf("refilled %d of %d rows", refilled, len(r.slots))
			}
			for id, ok := b.pop(); ok; id, ok = b.pop() {
				out = append(out, id)
			}
		case task.Refill:
			for _, off := range task.Rows {
				id := p.ShardFirst(task.Shard) + off
				b.slots[slot[id]] = id
				refilled++
			}
		default:
			for off := task.Skip; off < p.ShardRows(task.Shard); off++ {
				if id, ok := b.push(p.ShardFirst(task.Shard) + off); ok {
					out = append(out, id)
				}
			}
		}
	}
	return out
}

func TestResumeTasksAreSmall(t *testing.T) {
	// A resume re-reads only the shards holding buffered rows plus the rest of the
	// input, and names only the buffered rows of the former.
	p := mustPlan(t, 5, ShuffleBuffer, 10, shardSizes(1000, 50))
	r, err := p.Resume(Position{Epoch: 2, Emitted: 500})
	if err != nil {
		t.Fatal(err)
	}
	var refill, input int64
	for _, task := range r.Tasks() {
		switch {
		case task.Refill:
			refill += int64(len(task.Rows))
		case !task.End:
			input += p.ShardRows(task.Shard) - task.Skip
		}
	}
	// 510 rows were taken in for 500 out: 10 sit in the buffer, 490 remain to read.
	if refill != 10 || input != 490 {
		t.Errorf("refill %d rows + input %d rows; want 10 + 490", refill, input)
	}
	if got := len(r.Buffered()); got != 10 {
		t.Errorf("Buffered() has %d ids, want 10", got)
	}
}

func TestParseShuffleMode(t *testing.T) {
	for _, tc := range []struct {
		in  string
		ok  bool
		out ShuffleMode
	}{{"full", true, ShuffleFull}, {"buffer", true, ShuffleBuffer}, {"shards", true, ShuffleShards}, {"none", true, ShuffleNone}, {"", false, ""}, {"Full", false, ""}, {"random", false, ""}} {
		m, err := ParseShuffleMode(tc.in)
		if (err == nil) != tc.ok || m != tc.out {
			t.Errorf("ParseShuffleMode(%q) = %q, %v", tc.in, m, err)
		}
	}
	if _, err := NewPlan(1, ShuffleBuffer, 0, []int64{3}); err == nil {
		t.Error("NewPlan with a buffer of 0 rows: no error")
	}
	if _, err := NewPlan(1, ShuffleNone, 0, []int64{3, -1}); err == nil {
		t.Error("NewPlan with a negative shard: no error")
	}
}

func BenchmarkResume(b *testing.B) {
	for _, rows := range []int64{60_000, 1_000_000} {
		b.Run(fmt.Sprintf("rows=%d/buffer=65536", rows), func(b *testing.B) {
			p := mustPlan(b, 1, ShuffleBuffer, 65536, shardSizes(rows, 10_000))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.Resume(Position{Epoch: 1, Emitted: rows / 2}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(rows/2), "ns/replayed-row")
		})
	}
}
