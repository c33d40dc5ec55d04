// Package pipeline is sgdpipe's dataflow engine: a graph of goroutine stages joined by bounded
// channels, with cancellation, first-error-wins, ordered parallel stages, per-stage statistics and a
// stall watchdog. It is generic: it knows nothing of Arrow or of training.
//
// # Overview
//
// A graph is built from stages and run once:
//
//	g := pipeline.New(pipeline.Config{Logger: log})
//	recs := pipeline.AddSource(g, "read", reader, pipeline.Discard(release))
//	feats := pipeline.AddTransform(g, "normalize", recs, norm, pipeline.Workers(4), pipeline.Ordered())
//	pipeline.AddSink(g, "train", feats, trainer)
//	err := g.Run(ctx)
//
// Stages are small interfaces with Func adapters: a [Source] runs once and emits items, a
// [Transform] maps each input to zero or more outputs, an [Accumulator] also flushes at the end of
// its input (a batcher's partial last batch), and a [Sink] consumes items. [Broadcast], [Route]
// and [Merge] fan items out to several consumers and back in. Stage code never touches a channel:
// emit is its only way out, and it is the engine's cancellable send. The engine alone owns the
// goroutines (a fixed set per stage, run by a conc pool), the edges (channels of Capacity items,
// default 1), the order of outputs ([Ordered]) and the counters.
//
// Each [Stream] returned by a stage must be consumed exactly once; [Graph.Run] refuses a graph with
// a dangling stream, a bad option (an option that does not apply to the stage fails loudly) or
// duplicate stage names, with a one-line error naming the stage.
//
// [Graph.Run] returns the first error, prefixed with the stage's name (`stage "normalize": ...`);
// a panic in stage code becomes such an error, with its stack in the debug log. The first error
// cancels every other stage. Cancelling Run's context is a hard stop (in-flight items are
// discarded); [Graph.Stop] is a soft stop: only the sources are cancelled and the rest of the graph
// drains, flushes and returns nil.
//
// [Graph.Report] gives, live or after the run, each stage's items in and out and its time busy,
// starved (waiting for input) and blocked (waiting for room downstream), each edge's occupancy, and
// the bottleneck: the stage with the highest busy fraction. A watchdog reports a stall when no stage
// has sent or received anything for [Config.StallTimeout] (default 60 s), naming the stuck stage
// and showing its goroutines' stacks ([StallReport]).
//
// # Ownership
//
// An item belongs to exactly one party at a time, so reference-counted items (Arrow records) are
// released exactly once:
//
//   - A source owns what it creates until emit returns nil; then the engine does.
//   - A Transform's Process and a Sink's Consume own the item they are given; Process passes it on
//     (emit) or releases it, on every path, including errors.
//   - emit hands an item to the engine when it returns nil. When it returns an error (the graph was
//     cancelled, or Stop was called and the caller is a source), the item was not taken and the
//     caller still owns it. An emit already waiting for room when the graph is cancelled returns
//     nil: the engine takes the item and hands it to the Discard hook, and the next emit fails.
//   - Broadcast calls share(v, n) once per item before sending it to its n consumers, so the owner
//     can take n references; each consumer then owns one.
//   - Items the engine holds when a run ends or is cancelled (queued in an edge, buffered in an
//     ordered slot, not delivered by Broadcast, Route or Merge, or received by a worker just as the
//     graph was cancelled) are handed to the producing stage's [Discard] hook, exactly once each.
//     Without a hook they are dropped for the garbage collector.
//
// The graph keeps the stage values it was given until Run returns.
//
// # Concurrency
//
// Build a graph from one goroutine, then call Run once. [Graph.Report] and [Graph.Stop] are safe to
// call from any goroutine, during and after the run. Each stage runs on its own goroutines: a
// source on one, a transform, sink, Broadcast or Route on Workers(n) (default 1), Merge on one per
// input, and an ordered transform has one more that sends outputs in order. With Workers(n > 1),
// Process, Consume and Flush are called concurrently on the same value, so the stage must be safe
// for concurrent use (or keep per-call state only). Discard hooks may be called from any of the
// graph's goroutines, concurrently. When Run returns, every goroutine it started has exited.
//
// Each goroutine runs under the pprof label stage=<name>, so CPU and goroutine profiles can be
// split by stage. Statistics are kept by the engine with atomic counters; waits are timed with a
// coarse clock (an atomic advanced every millisecond by one goroutine per run), and only when a
// channel operation has to wait, so the per-item fast path reads no clock.
//
// Cost: on a chain of no-op stages, the engine adds about one non-blocking channel attempt, three
// atomic adds and two cancellation checks per item and stage to the channel hand-off itself.
// BenchmarkChain (5 stages, 2-core VM under heavy load) measured 120-200 ns per item and stage:
// 1.35-1.6x a hand-written chain of plain channels, and 0.6-0.67x one whose sends and receives also
// select on ctx.Done(), measured in the same runs. Starting and stopping a 5-stage run costs about
// 40 µs and 200 allocations, whatever the number of items; nothing is allocated per item.
package pipeline
