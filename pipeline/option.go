package pipeline

import (
	"fmt"
	"reflect"
)

// Option configures one stage. Options are values made by Workers, Ordered, Capacity and Discard;
// an option that does not apply to the stage it is given to (Ordered on a sink, Workers on a
// source, a Discard hook of the wrong type) makes Run fail with an error naming the stage and the
// option, rather than being ignored. The zero Option is invalid in the same way.
type Option struct {
	apply func(*options)
}

// options collects a stage's options before they are checked against its kind.
type options struct {
	workers  int
	ordered  bool
	capacity int
	discard  any // a func(T), checked against the stage's output type
	given    map[string]bool
	errs     []string
}

func (o *options) set(name string) {
	if o.given == nil {
		o.given = make(map[string]bool)
	}
	o.given[name] = true
}

// Workers runs the stage on n goroutines (default 1). Applies to transforms, sinks, Broadcast and
// Route; a source runs once (parallelise inside Run, or feed a transform with Workers), and Merge
// uses one goroutine per input. With n > 1 the stage's Process (or Consume) is called concurrently
// on the same value, so it must be safe for concurrent use; without Ordered, outputs leave in
// completion order. n < 1 makes Run fail.
func Workers(n int) Option {
	return Option{apply: func(o *options) {
		o.set("Workers")
		if n < 1 {
			o.errs = append(o.errs, fmt.Sprintf("Workers(%d): must be at least 1", n))
			return
		}
		o.workers = n
	}}
}

// Ordered makes a transform with Workers(n > 1) emit in input order: all outputs of input i leave
// before any output of input i+1, whatever the workers' timing. It follows the conc stream idea: a
// bounded queue of n per-item result slots drained in submission order by one extra goroutine. A
// worker buffers at most max(Capacity, 1) outputs of an item that is not yet at the head of the
// queue before it waits, so memory stays bounded. Cost: about eight more channel operations and
// one more goroutine hand-off per input than an unordered stage (BenchmarkOrdered: 1-3 µs per item
// on a busy 2-core machine), so use it for stages whose work per item is much larger than that.
// Applies to transforms only; with one worker it changes nothing.
func Ordered() Option {
	return Option{apply: func(o *options) {
		o.set("Ordered")
		o.ordered = true
	}}
}

// Capacity sets the capacity of the stage's output edge(s) (default 1; 0 = unbuffered). Larger
// capacities absorb jitter between stages at the cost of memory: each queued item is held alive.
// Applies to every stage with an output (not sinks). n < 0 makes Run fail.
func Capacity(n int) Option {
	return Option{apply: func(o *options) {
		o.set("Capacity")
		if n < 0 {
			o.errs = append(o.errs, fmt.Sprintf("Capacity(%d): must be at least 0", n))
			return
		}
		o.capacity = n
	}}
}

// Discard registers the hook that takes back items of this stage's output type T that were produced
// but never consumed: items still queued in an output edge or an ordered slot when Run ends, items
// sent by an emit that was waiting for room when the graph was cancelled, items that Broadcast,
// Route or Merge could not deliver, and items a downstream worker received just as the graph was
// cancelled. Each such item is handed to f exactly once; items a stage's own emit
// refused (emit returned an error) are not: the stage still owns those. For Arrow records f is
// typically func(r arrow.RecordBatch) { r.Release() }. f may be called from any of the graph's
// goroutines, concurrently, and from Run after all workers have returned. Broadcast, Route and
// Merge default to the hook of their input (Merge: the first input with one). Applies to every stage
// with an output; T must be the stage's output type and f must not be nil, or Run fails.
func Discard[T any](f func(T)) Option {
	return Option{apply: func(o *options) {
		o.set("Discard")
		if f == nil {
			o.errs = append(o.errs, "Discard(nil): give a hook, or leave the option out")
			return
		}
		o.discard = f
	}}
}

// optionNames lists every option, in the order errors mention them.
var optionNames = []string{"Workers", "Ordered", "Capacity", "Discard"}

// allowed lists the options each kind of stage accepts.
var allowed = map[string][]string{
	kindSource:    {"Capacity", "Discard"},
	kindTransform: {"Workers", "Ordered", "Capacity", "Discard"},
	kindSink:      {"Workers"},
	kindBroadcast: {"Workers", "Capacity", "Discard"},
	kindRoute:     {"Workers", "Capacity", "Discard"},
	kindMerge:     {"Capacity", "Discard"},
}

// parseOptions applies opts and returns them with defaults, plus one error per misuse.
func parseOptions(kind string, opts []Option) (options, []string) {
	o := options{workers: 1, capacity: 1}
	for _, opt := range opts {
		if opt.apply == nil {
			o.errs = append(o.errs, "a zero Option: build options with Workers, Ordered, Capacity or Discard")
			continue
		}
		opt.apply(&o)
	}
	for _, name := range optionNames {
		if !o.given[name] {
			continue
		}
		ok := false
		for _, a := range allowed[kind] {
			ok = ok || a == name
		}
		if !ok {
			o.errs = append(o.errs, fmt.Sprintf("option %s does not apply to a %s", name, kind))
		}
	}
	return o, o.errs
}

// discardHook returns the Discard hook for output type T, or an error if the hook takes another type.
func discardHook[T any](o *options) (func(T), string) {
	if o.discard == nil {
		return nil, ""
	}
	f, ok := o.discard.(func(T))
	if !ok {
		return nil, fmt.Sprintf("Discard hook is a %s, but the stage emits %s: use Discard[%s]",
			reflect.TypeOf(o.discard), reflect.TypeFor[T](), reflect.TypeFor[T]())
	}
	return f, ""
}
