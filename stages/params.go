package stages

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Snapshot is one immutable version of the flat parameter vector, published by the optimizer stage.
// Workers read Params and must call ParamStore.Release when done; they never write to it.
type Snapshot struct {
	Version int64     // number of optimizer steps applied to produce these parameters
	Params  []float32 // flat parameters, layout of the model's ops.Layout; read-only
	refs    int
}

// ParamStore holds the versioned parameter snapshots shared by the optimizer (one writer) and the
// compute (or forward/backward) workers (readers). It implements the staleness bound of bounded-staleness SGD:
// a worker about to compute a gradient for step t (1-based) acquires a snapshot whose version is at
// least t-1-S; with S = 0 that is exactly the parameters after step t-1 (synchronous SGD).
//
// It keeps S+2 buffers, enough that Publish never waits for a buffer while workers make progress; a
// store made by NewInPlaceParamStore (staleness 0) keeps none: its snapshot is the publisher's vector.
// ParamStore is safe for concurrent use. Acquire, BeginUpdate and Publish block and honour ctx.
type ParamStore struct {
	mu        sync.Mutex
	waiters   []chan struct{} // goroutines waiting for a change, woken by broadcastLocked
	spare     []chan struct{} // reusable wake-up channels (buffered 1): waiting allocates nothing
	staleness int64
	bufs      []*Snapshot // the copying store's buffers
	latest    *Snapshot
	version   atomic.Int64 // latest.Version, readable without the lock
	inPlace   bool         // the one buffer is the publisher's vector, changed between BeginUpdate and Publish
	updating  bool         // inPlace: between BeginUpdate and Publish; no snapshot is handed out
	assist    func() bool  // SetAssist; nil = none
	assisted  atomic.Int64 // ns the spinning workers spent in assist calls that found work
}

// SetAssist gives the store work for waiting workers: while a worker spins for the parameters of
// its step, it calls assist, which does a share of the publisher's work in progress (the update:
// optim.Assist) and reports whether there was any. Call it before the workers start.
func (s *ParamStore) SetAssist(assist func() bool) { s.assist = assist }

// NewParamStore returns a store whose first snapshot is a copy of params with the given version (the
// number of steps already applied: 0, or the step of a resumed checkpoint).
func NewParamStore(params []float32, staleness int, version int64) *ParamStore {
	if staleness < 0 {
		panic("stages: negative staleness")
	}
	s := &ParamStore{staleness: int64(staleness)}
	for range staleness + 2 {
		s.bufs = append(s.bufs, &Snapshot{Params: make([]float32, len(params))})
	}
	copy(s.bufs[0].Params, params)
	s.bufs[0].Version = version
	s.latest = s.bufs[0]
	s.version.Store(version)
	return s
}

// NewInPlaceParamStore returns a staleness-0 store whose only snapshot is params itself: the publisher
// changes params in place between BeginUpdate (which waits until no worker reads them) and Publish
// (which makes them the next version without copying). Synchronous SGD loses nothing by it: the
// workers of step t+1 wait for the parameters of step t anyway, and those of step t have released
// theirs by the time their gradient reaches the optimizer; what it saves is a copy of the whole
// vector on the serial end of every step.
func NewInPlaceParamStore(params []float32, version int64) *ParamStore {
	s := &ParamStore{inPlace: true, latest: &Snapshot{Params: params, Version: version}}
	s.version.Store(version)
	return s
}

// Assisted returns the time workers spent helping the publisher (SetAssist), summed over workers.
func (s *ParamStore) Assisted() time.Duration { return time.Duration(s.assisted.Load()) }

// Staleness returns the bound S.
func (s *ParamStore) Staleness() int { return int(s.staleness) }

// broadcastLocked wakes every waiter. The caller holds s.mu.
func (s *ParamStore) broadcastLocked() {
	for _, ch := range s.waiters {
		select {
		case ch <- struct{}{}:
		default: // already woken
		}
	}
	s.waiters = s.waiters[:0]
}

// waitLocked releases s.mu until the next broadcast or ctx's end, and takes it again. The caller holds
// s.mu and re-checks its condition afterwards.
func (s *ParamStore) waitLocked(ctx context.Context) error {
	var ch chan struct{}
	if n := len(s.spare); n > 0 {
		ch, s.spare = s.spare[n-1], s.spare[:n-1]
	} else {
		ch = make(chan struct{}, 1)
	}
	s.waiters = append(s.waiters, ch)
	s.mu.Unlock()
	var err error
	select {
	case <-ch:
	case <-ctx.Done():
		err = ctx.Err()
	}
	s.mu.Lock()
	for i, w := range s.waiters { // still registered when ctx ended first
		if w == ch {
			s.waiters = append(s.waiters[:i], s.waiters[i+1:]...)
			break
		}
	}
	select {
	case <-ch: // drain a wake-up that raced with ctx
	default:
	}
	s.spare = append(s.spare, ch)
	return err
}

// Acquire returns the latest snapshot once its version is at least step-1-S, for a worker computing a
// gradient of step (1-based). The caller must Release it.
func (s *ParamStore) Acquire(ctx context.Context, step int64) (*Snapshot, error) {
	need := step - 1 - s.staleness
	if s.version.Load() < need {
		s.spin(need)
	}
	s.mu.Lock()
	for s.latest.Version < need || s.updating {
		if err := s.waitLocked(ctx); err != nil {
			s.mu.Unlock()
			return nil, err
		}
	}
	snap := s.latest
	snap.refs++
	s.mu.Unlock()
	return snap, nil
}

// spin yields the processor until version need is published, for at most spinWait (and
// spinYields yields, so that a fake clock cannot hold it). The wait of a synchronous step is
// usually its serial end plus the other workers' lag, a fraction of a millisecond: a worker
// that sleeps through it on a channel is woken from an idle core after the parameters come,
// which on a virtual machine costs tens of microseconds per step (MNIST MLP at batch 128:
// 200 µs of spinning gave about 10% more samples/s than none, 1 ms about 10% more again:
// the wait often outlasted 200 µs). Yielding, the spinning worker lets the data path's
// goroutines run on its core meanwhile.
//
// While it spins it helps the publisher (SetAssist): at staleness 0 the serial end of a step
// is an element-wise update of the whole parameter vector, which two cores finish in about
// half the time.
func (s *ParamStore) spin(need int64) {
	start := time.Now()
	for i := 0; i < spinYields && s.version.Load() < need; i++ {
		if s.assist != nil {
			t := time.Now()
			if s.assist() {
				s.assisted.Add(int64(time.Since(t)))
				continue
			}
		}
		if i%32 == 31 && time.Since(start) > spinWait {
			return
		}
		runtime.Gosched()
	}
}

const (
	spinWait   = 1000 * time.Microsecond
	spinYields = 1 << 16
)

// Release hands a snapshot back.
func (s *ParamStore) Release(snap *Snapshot) {
	s.mu.Lock()
	snap.refs--
	if snap.refs < 0 {
		s.mu.Unlock()
		panic("stages: snapshot released twice")
	}
	s.broadcastLocked()
	s.mu.Unlock()
}

// Latest returns the version and a read-only view of the newest parameters. The view stays valid until
// the next Publish; only the optimizer (the single publisher) may use it without Acquire.
func (s *ParamStore) Latest() (int64, []float32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.latest.Version, s.latest.Params
}

// BeginUpdate is called by the publisher before it changes its parameter vector. In an in-place store
// it waits until no worker holds the latest snapshot (the vector itself) and hands out none until
// Publish; otherwise it does nothing.
func (s *ParamStore) BeginUpdate(ctx context.Context) error {
	if !s.inPlace {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.updating {
		panic("stages: BeginUpdate twice without Publish")
	}
	for s.latest.refs > 0 {
		if err := s.waitLocked(ctx); err != nil {
			return err
		}
	}
	s.updating = true
	return nil
}

// Publish makes params the latest snapshot with the given version: copied into a free buffer, or, in
// an in-place store (after BeginUpdate), as they are.
func (s *ParamStore) Publish(ctx context.Context, version int64, params []float32) error {
	s.mu.Lock()
	if s.inPlace {
		if !s.updating || len(params) != len(s.latest.Params) || len(params) > 0 && &params[0] != &s.latest.Params[0] {
			s.mu.Unlock()
			panic("stages: in-place publish of another vector or without BeginUpdate")
		}
		s.updating = false
		s.latest.Version = version
		s.version.Store(version)
		s.broadcastLocked()
		s.mu.Unlock()
		return nil
	}
	for {
		var free *Snapshot
		for _, b := range s.bufs {
			if b != s.latest && b.refs == 0 {
				free = b
				break
			}
		}
		if free != nil {
			if len(params) != len(free.Params) {
				s.mu.Unlock()
				panic(fmt.Sprintf("stages: publish %d parameters into a store of %d", len(params), len(free.Params)))
			}
			copy(free.Params, params)
			free.Version = version
			s.latest = free
			s.version.Store(version)
			s.broadcastLocked()
			s.mu.Unlock()
			return nil
		}
		if err := s.waitLocked(ctx); err != nil {
			s.mu.Unlock()
			return err
		}
	}
}
