package stages

import (
	"context"
	"errors"
	"slices"
	"testing"
	"testing/synctest"
)

// TestParamStoreStaleness checks the staleness bound of the copying store: a worker of step t gets
// the latest snapshot once its version is at least t-1-S, and waits before.
func TestParamStoreStaleness(t *testing.T) {
	for _, tc := range []struct {
		staleness int
		step      int64 // step to acquire for, with version 0 published
		waits     bool
	}{
		{0, 1, false},
		{0, 2, true},
		{1, 2, false},
		{1, 3, true},
		{2, 3, false},
		{2, 4, true},
	} {
		synctest.Test(t, func(t *testing.T) {
			s := NewParamStore([]float32{1, 2}, tc.staleness, 0)
			got := make(chan *Snapshot, 1)
			go func() {
				snap, err := s.Acquire(context.Background(), tc.step)
				if err != nil {
					t.Error(err)
				}
				got <- snap
			}()
			synctest.Wait()
			if waiting := len(got) == 0; waiting != tc.waits {
				t.Fatalf("S=%d step %d: waiting %v, want %v", tc.staleness, tc.step, waiting, tc.waits)
			}
			if tc.waits {
				for v := int64(1); v <= tc.step-1-int64(tc.staleness); v++ {
					if err := s.Publish(context.Background(), v, []float32{float32(v), 0}); err != nil {
						t.Fatal(err)
					}
				}
			}
			snap := <-got
			if want := max(0, tc.step-1-int64(tc.staleness)); snap.Version != want {
				t.Errorf("S=%d step %d: version %d, want %d", tc.staleness, tc.step, snap.Version, want)
			}
			s.Release(snap)
		})
	}
}

// TestParamStoreCopies checks that the copying store's snapshots are copies: a worker's snapshot
// keeps its values while the publisher changes its vector and publishes, and Publish waits for a
// free buffer while every other buffer is held.
func TestParamStoreCopies(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		p := []float32{1, 2, 3}
		s := NewParamStore(p, 0, 0) // two buffers
		a, err := s.Acquire(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		p[0] = 10
		if err := s.Publish(ctx, 1, p); err != nil { // into the second buffer
			t.Fatal(err)
		}
		if !slices.Equal(a.Params, []float32{1, 2, 3}) {
			t.Fatalf("held snapshot changed to %v", a.Params)
		}
		b, err := s.Acquire(ctx, 2)
		if err != nil {
			t.Fatal(err)
		}
		if b.Version != 1 || b.Params[0] != 10 {
			t.Fatalf("snapshot %d %v, want version 1 with 10 first", b.Version, b.Params)
		}
		done := make(chan error, 1)
		go func() { done <- s.Publish(ctx, 2, p) }()
		synctest.Wait()
		if len(done) != 0 {
			t.Fatal("Publish did not wait while both buffers were held")
		}
		s.Release(a)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		s.Release(b)
	})
}

// TestInPlaceParamStore checks the staleness-0 store that shares the publisher's vector:
// BeginUpdate waits until no worker holds it, no snapshot is handed out between BeginUpdate and
// Publish, Publish makes the changed vector the next version without a copy, and misuse panics.
func TestInPlaceParamStore(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		p := []float32{1, 2, 3}
		s := NewInPlaceParamStore(p, 5)
		a, err := s.Acquire(ctx, 6)
		if err != nil {
			t.Fatal(err)
		}
		if a.Version != 5 || &a.Params[0] != &p[0] {
			t.Fatalf("snapshot version %d, shares the vector %v; want 5, true", a.Version, &a.Params[0] == &p[0])
		}
		began := make(chan error, 1)
		go func() { began <- s.BeginUpdate(ctx) }()
		synctest.Wait()
		if len(began) != 0 {
			t.Fatal("BeginUpdate did not wait for the worker holding the parameters")
		}
		s.Release(a)
		if err := <-began; err != nil {
			t.Fatal(err)
		}
		// Updating: even a worker whose version is already there waits for Publish.
		got := make(chan *Snapshot, 1)
		go func() {
			snap, err := s.Acquire(ctx, 6)
			if err != nil {
				t.Error(err)
			}
			got <- snap
		}()
		synctest.Wait()
		if len(got) != 0 {
			t.Fatal("Acquire handed out the parameters during an update")
		}
		p[0] = 7
		if err := s.Publish(ctx, 6, p); err != nil {
			t.Fatal(err)
		}
		b := <-got
		if b.Version != 6 || b.Params[0] != 7 {
			t.Fatalf("snapshot %d %v after publish, want version 6 with 7 first", b.Version, b.Params)
		}
		s.Release(b)
		if v, params := s.Latest(); v != 6 || &params[0] != &p[0] {
			t.Fatalf("Latest = %d (shares %v), want 6 sharing the vector", v, &params[0] == &p[0])
		}
	})
	for _, tc := range []struct {
		name string
		do   func(s *ParamStore, p []float32)
	}{
		{"publish without BeginUpdate", func(s *ParamStore, p []float32) { _ = s.Publish(context.Background(), 1, p) }},
		{"publish another vector", func(s *ParamStore, p []float32) {
			_ = s.BeginUpdate(context.Background())
			_ = s.Publish(context.Background(), 1, slices.Clone(p))
		}},
		{"BeginUpdate twice", func(s *ParamStore, p []float32) {
			_ = s.BeginUpdate(context.Background())
			_ = s.BeginUpdate(context.Background())
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			p := []float32{1}
			tc.do(NewInPlaceParamStore(p, 0), p)
		})
	}
}

// TestInPlaceParamStoreCancel checks that a BeginUpdate waiting for a worker returns when its
// context ends.
func TestInPlaceParamStoreCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := NewInPlaceParamStore([]float32{1}, 0)
		a, err := s.Acquire(context.Background(), 1)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- s.BeginUpdate(ctx) }()
		synctest.Wait()
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("BeginUpdate = %v, want context.Canceled", err)
		}
		s.Release(a)
	})
}
