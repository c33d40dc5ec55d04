package stages

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
)

// ShuffleMode names how an epoch orders its rows.
type ShuffleMode string

// The shuffle modes, from the best shuffle to the cheapest.
const (
	// ShuffleFull emits a seeded uniform permutation of all rows. It holds the whole
	// dataset in memory, so the data must fit DataConfig.MemoryBudget.
	ShuffleFull ShuffleMode = "full"
	// ShuffleBuffer permutes the shard order each epoch and passes the rows through
	// a buffer of ShuffleBuffer rows that emits a uniformly drawn row for every row
	// it takes in (tf.data style).
	ShuffleBuffer ShuffleMode = "buffer"
	// ShuffleShards permutes the shard order each epoch; rows keep their order
	// inside a shard.
	ShuffleShards ShuffleMode = "shards"
	// ShuffleNone reads the rows in file order.
	ShuffleNone ShuffleMode = "none"
)

// ParseShuffleMode returns the mode named s, or an error naming the --shuffle flag.
func ParseShuffleMode(s string) (ShuffleMode, error) {
	switch m := ShuffleMode(s); m {
	case ShuffleFull, ShuffleBuffer, ShuffleShards, ShuffleNone:
		return m, nil
	}
	return "", fmt.Errorf("--shuffle: must be full, buffer, shards or none, got %q", s)
}

// Position is where a run stands in the data: the epoch and the number of rows the
// shuffler has emitted in that epoch. A checkpoint stores only this pair; the
// shuffle buffer and its random state are rebuilt from it by Plan.Resume.
// The zero Position is the start of the first epoch.
type Position struct {
	Epoch   int
	Emitted int64
}

// Plan is the epoch plan of a run: a pure function of the run seed, the mode, the
// row-buffer capacity and the shard sizes. It decides the shard order of every epoch
// and owns the random streams of the row shuffle, so that the order of the rows
// never depends on timing, on the number of readers or on record boundaries.
//
// A Plan is immutable after NewPlan and safe for concurrent use. Its zero value is
// not usable.
type Plan struct {
	seed   uint64
	mode   ShuffleMode
	buffer int     // row-buffer capacity; 0 = rows pass through in input order
	rows   []int64 // rows of each shard, in file order
	first  []int64 // global index of the first row of each shard
	total  int64
}

// NewPlan returns the plan of a run over shards of the given sizes (in file order).
// buffer is the row-buffer capacity of ShuffleBuffer mode and is ignored by the
// other modes (ShuffleFull buffers every row, the others none). It copies shardRows.
func NewPlan(seed uint64, mode ShuffleMode, buffer int, shardRows []int64) (*Plan, error) {
	if _, err := ParseShuffleMode(string(mode)); err != nil {
		return nil, err
	}
	p := &Plan{seed: seed, mode: mode, rows: slices.Clone(shardRows), first: make([]int64, len(shardRows))}
	for i, n := range shardRows {
		if n < 0 {
			return nil, fmt.Errorf("stages: shard %d has %d rows", i, n)
		}
		p.first[i] = p.total
		p.total += n
	}
	switch mode {
	case ShuffleBuffer:
		if buffer < 1 {
			return nil, fmt.Errorf("--shuffle-buffer: must be >= 1 with --shuffle=buffer, got %d", buffer)
		}
		p.buffer = buffer
	case ShuffleFull:
		p.buffer = int(max(p.total, 1))
	}
	return p, nil
}

// Mode returns the plan's shuffle mode.
func (p *Plan) Mode() ShuffleMode { return p.mode }

// Rows returns the number of rows in an epoch.
func (p *Plan) Rows() int64 { return p.total }

// Buffer returns the capacity of the row buffer in rows: ShuffleBuffer's size, every
// row for ShuffleFull, 0 when rows pass through in input order.
func (p *Plan) Buffer() int { return p.buffer }

// ShardRows returns the number of rows of shard s.
func (p *Plan) ShardRows(s int) int64 { return p.rows[s] }

// ShardFirst returns the global index of the first row of shard s.
func (p *Plan) ShardFirst(s int) int64 { return p.first[s] }

// Random streams derived from the run seed and the epoch.
const (
	streamShards = 1 // shard order
	streamRows   = 2 // row buffer draws
)

// pcg returns the random source of one purpose in one epoch: PCG seeded with the
// run seed and a mix of (epoch, stream), so every epoch gets its own permutation.
func (p *Plan) pcg(epoch int, stream uint64) *rand.PCG {
	return rand.NewPCG(p.seed, mix64(uint64(epoch)<<8|stream))
}

// mix64 is the splitmix64 finalizer: consecutive inputs give unrelated outputs.
func mix64(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// ShardOrder returns the order in which epoch reads the shards: file order for
// ShuffleNone and ShuffleFull (whose permutation does not depend on the input
// order), a seeded permutation for ShuffleShards and ShuffleBuffer.
// The caller owns the result.
func (p *Plan) ShardOrder(epoch int) []int {
	switch p.mode {
	case ShuffleShards, ShuffleBuffer:
		return rand.New(p.pcg(epoch, streamShards)).Perm(len(p.rows))
	}
	order := make([]int, len(p.rows))
	for i := range order {
		order[i] = i
	}
	return order
}

// rowBuffer is the row shuffle of one epoch, generic over what a slot holds: row ids
// when a resume replays the epoch without data, row references in the shuffler. Both
// run this same code, so a replay reproduces the shuffler's state exactly.
type rowBuffer[T any] struct {
	k     int        // capacity
	rng   *rand.Rand // one draw per emitted row
	slots []T
}

// push takes in one row. While the buffer is not full it keeps v; once full, it draws
// a uniformly random slot, returns its row and puts v in its place.
func (b *rowBuffer[T]) push(v T) (out T, ok bool) {
	if len(b.slots) < b.k {
		b.slots = append(b.slots, v)
		return out, false
	}
	j := b.rng.IntN(b.k)
	out, b.slots[j] = b.slots[j], v
	return out, true
}

// pop removes and returns a uniformly drawn row; it drains the buffer once the input
// of the epoch has ended.
func (b *rowBuffer[T]) pop() (out T, ok bool) {
	n := len(b.slots)
	if n == 0 {
		return out, false
	}
	j := b.rng.IntN(n)
	out = b.slots[j]
	var zero T
	b.slots[j], b.slots[n-1] = b.slots[n-1], zero
	b.slots = b.slots[:n-1]
	return out, true
}

// Order returns the global row indices of epoch in the order the shuffler emits them,
// computed from indices alone. It costs O(Rows) time and memory; tests and offline
// studies of shuffle quality use it. The caller owns the result.
func (p *Plan) Order(epoch int) []int64 {
	out := make([]int64, 0, p.total)
	order := p.ShardOrder(epoch)
	if p.buffer == 0 {
		for _, s := range order {
			for off := range p.rows[s] {
				out = append(out, p.first[s]+off)
			}
		}
		return out
	}
	b := rowBuffer[int64]{k: p.buffer, rng: rand.New(p.pcg(epoch, streamRows))}
	for _, s := range order {
		for off := range p.rows[s] {
			if id, ok := b.push(p.first[s] + off); ok {
				out = append(out, id)
			}
		}
	}
	for id, ok := b.pop(); ok; id, ok = b.pop() {
		out = append(out, id)
	}
	return out
}

// Resume is the exact state of an epoch after a given number of emitted rows,
// rebuilt from indices alone: which rows sit in the buffer (in slot order), the
// state of the random stream after the draws already made, and where the input
// stands. It holds no row data: the shuffler re-reads the buffered rows and the rest
// of the input from the files (Tasks). A Resume is immutable and safe for concurrent
// use; each shuffler started from it gets its own copy of the random state.
type Resume struct {
	plan  *Plan
	pos   Position
	order []int   // shard order of the epoch
	next  int     // index in order of the first shard not fully taken in
	skip  int64   // rows of order[next] already taken in
	slots []int64 // buffered row ids in slot order (nil when rows pass through)
	pcg   []byte  // PCG state after the replayed draws (nil when rows pass through)
}

// Resume replays epoch pos.Epoch over row indices up to pos.Emitted emitted rows and
// returns the state to continue from. It reads no data. It costs O(Emitted + Buffer)
// time and O(Buffer) memory: 12-17 ns per replayed row (BenchmarkResume), so
// resuming in the middle of a 100M-row epoch takes about a second.
func (p *Plan) Resume(pos Position) (*Resume, error) {
	if pos.Epoch < 0 || pos.Emitted < 0 || pos.Emitted > p.total {
		return nil, fmt.Errorf("resume position epoch %d row %d is outside the data (%d rows per epoch): was the checkpoint written for other data?",
			pos.Epoch, pos.Emitted, p.total)
	}
	r := &Resume{plan: p, pos: pos, order: p.ShardOrder(pos.Epoch)}
	if p.buffer == 0 {
		left := pos.Emitted
		for r.next < len(r.order) && left >= p.rows[r.order[r.next]] {
			left -= p.rows[r.order[r.next]]
			r.next++
		}
		r.skip = left
		return r, nil
	}
	src := p.pcg(pos.Epoch, streamRows)
	b := rowBuffer[int64]{k: p.buffer, rng: rand.New(src), slots: make([]int64, 0, min(int64(p.buffer), p.total))}
	r.replay(&b)
	r.slots = b.slots
	var err error
	if r.pcg, err = src.MarshalBinary(); err != nil {
		return nil, fmt.Errorf("stages: save random state: %w", err)
	}
	return r, nil
}

// replay runs the epoch's row buffer over row ids until r.pos.Emitted rows came out,
// and records where the input stands.
func (r *Resume) replay(b *rowBuffer[int64]) {
	p := r.plan
	var emitted int64
	if emitted == r.pos.Emitted {
		return
	}
	for ; r.next < len(r.order); r.next++ {
		s := r.order[r.next]
		for off := range p.rows[s] {
			if _, ok := b.push(p.first[s] + off); ok {
				emitted++
			}
			if emitted == r.pos.Emitted {
				r.skip = off + 1
				if r.skip == p.rows[s] {
					r.next, r.skip = r.next+1, 0
				}
				return
			}
		}
	}
	for ; emitted < r.pos.Emitted; emitted++ {
		b.pop()
	}
}

// rowBuffer returns the buffer of the resumed epoch, with slots sized to the
// buffered rows but still empty, and its own copy of the random state.
func (r *Resume) rowBuffer() (rowBuffer[rowRef], error) {
	src := new(rand.PCG)
	if err := src.UnmarshalBinary(r.pcg); err != nil {
		return rowBuffer[rowRef]{}, fmt.Errorf("stages: restore random state: %w", err)
	}
	return rowBuffer[rowRef]{k: r.plan.buffer, rng: rand.New(src), slots: make([]rowRef, len(r.slots))}, nil
}

// Position returns the position the state was rebuilt for.
func (r *Resume) Position() Position { return r.pos }

// Buffered returns the ids of the rows in the buffer, ascending. The caller owns the result.
func (r *Resume) Buffered() []int64 {
	ids := slices.Clone(r.slots)
	slices.Sort(ids)
	return ids
}

// shardOf returns the shard holding global row id.
func (p *Plan) shardOf(id int64) int {
	return sort.Search(len(p.first), func(i int) bool { return p.first[i] > id }) - 1
}

// Tasks returns the reader tasks of epoch pos.Epoch from this state on: first the
// refill tasks, one per shard holding buffered rows, in ascending shard order
// and naming only those rows (so the rows arrive in ascending id order), then the
// remaining input in plan order (the first one skipping the rows already taken in),
// then the end-of-epoch marker. The caller owns the result.
func (r *Resume) Tasks() []ShardTask {
	p := r.plan
	var tasks []ShardTask
	ids := r.Buffered()
	for i := 0; i < len(ids); {
		s := p.shardOf(ids[i])
		t := ShardTask{Epoch: r.pos.Epoch, Shard: s, Refill: true}
		for ; i < len(ids) && ids[i] < p.first[s]+p.rows[s]; i++ {
			t.Rows = append(t.Rows, ids[i]-p.first[s])
		}
		tasks = append(tasks, t)
	}
	for i, s := range r.order[r.next:] {
		t := ShardTask{Epoch: r.pos.Epoch, Shard: s}
		if i == 0 {
			t.Skip = r.skip
		}
		tasks = append(tasks, t)
	}
	return append(tasks, ShardTask{Epoch: r.pos.Epoch, Shard: -1, End: true})
}

// EpochTasks returns the reader tasks of a whole epoch: every shard in plan order,
// then the end-of-epoch marker. The caller owns the result.
func (p *Plan) EpochTasks(epoch int) []ShardTask {
	order := p.ShardOrder(epoch)
	tasks := make([]ShardTask, 0, len(order)+1)
	for _, s := range order {
		tasks = append(tasks, ShardTask{Epoch: epoch, Shard: s})
	}
	return append(tasks, ShardTask{Epoch: epoch, Shard: -1, End: true})
}

// ShardTask is one unit of reader work: read shard Shard of epoch Epoch, or, when End
// is set, mark the end of the epoch's input. A plain value, safe to copy.
type ShardTask struct {
	Epoch int
	Shard int   // index into the dataset's shards; -1 with End
	Skip  int64 // rows at the start of the shard to leave out (resume inside a shard)
	// Rows, when not nil, lists the only rows to read (offsets in the shard,
	// ascending): the buffered rows a resume re-reads.
	Rows []int64
	// Refill marks a resume task whose rows go back into the shuffle buffer.
	Refill bool
	End    bool
}

// String names the task for errors and logs.
func (t ShardTask) String() string {
	if t.End {
		return fmt.Sprintf("end of epoch %d", t.Epoch)
	}
	return fmt.Sprintf("epoch %d shard %d", t.Epoch, t.Shard)
}
