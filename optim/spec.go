package optim

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// A spec is "name" or "name:arg,arg,...", each arg either a positional value
// or key=value (positional ones first); for options of kind optBool a bare
// key means true. This file holds the binder shared by ParseSchedule and
// ParseOptimizer.

type optKind int

const (
	optFloat optKind = iota
	optInt
	optBool
	optInts   // "5/15/30"
	optString // one of a fixed set, checked by the caller
)

// param is one named argument of a schedule or one option of a rule.
type param struct {
	name  string
	kind  optKind
	def   string // "" means required
	field string // the Go config field it sets (to name ConfigErrors), if any
}

// bound holds the values of one spec's arguments after binding.
type bound struct {
	who  string // "--schedule step", "--optimizer adam"
	vals map[string]string
	set  map[string]bool // given explicitly
	err  error
}

func (b *bound) failf(format string, args ...any) {
	if b.err == nil {
		b.err = fmt.Errorf("%s: %s", b.who, fmt.Sprintf(format, args...))
	}
}

func paramNames(ps []param) string {
	if len(ps) == 0 {
		return "no parameters"
	}
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.name
	}
	return strings.Join(names, ", ")
}

// splitSpec splits "name:args" into the lower-cased name and its args.
func splitSpec(spec string) (name string, args []string) {
	spec = strings.TrimSpace(spec)
	name, rest, ok := strings.Cut(spec, ":")
	name = strings.ToLower(strings.TrimSpace(name))
	if !ok {
		return name, nil
	}
	for a := range strings.SplitSeq(rest, ",") {
		args = append(args, strings.TrimSpace(a))
	}
	return name, args
}

// bind matches args to ps. positional says whether bare values bind in order.
func bind(who string, ps []param, args []string, positional bool) *bound {
	b := &bound{who: who, vals: make(map[string]string, len(ps)), set: make(map[string]bool, len(args))}
	byName := make(map[string]param, len(ps))
	for _, p := range ps {
		byName[p.name] = p
	}
	next, sawKey := 0, false
	for _, a := range args {
		if a == "" {
			b.failf("empty argument (remove the extra comma)")
			return b
		}
		key, val, isKV := strings.Cut(a, "=")
		key = strings.ToLower(strings.TrimSpace(key))
		switch {
		case isKV:
			sawKey = true
		case byName[key].kind == optBool && byName[key].name != "":
			val, sawKey = "true", true
		case !positional:
			b.failf("%q: want key=value (it takes %s)", a, paramNames(ps))
			return b
		case sawKey:
			b.failf("positional value %q after a key=value one", a)
			return b
		case next >= len(ps):
			b.failf("too many values (it takes %s)", paramNames(ps))
			return b
		default:
			key, val = ps[next].name, a
			next++
		}
		if _, ok := byName[key]; !ok {
			b.failf("unknown parameter %q (it takes %s)", key, paramNames(ps))
			return b
		}
		if b.set[key] {
			b.failf("%s given twice", key)
			return b
		}
		b.vals[key], b.set[key] = strings.TrimSpace(val), true
	}
	for _, p := range ps {
		if !b.set[p.name] {
			if p.def == "" {
				b.failf("%s is required", p.name)
				return b
			}
			b.vals[p.name] = p.def
		}
	}
	return b
}

func (b *bound) float(name string) float64 {
	s := b.vals[name]
	x, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
		b.failf("%s: %q is not a finite number", name, s)
		return 0
	}
	return x
}

func (b *bound) int(name string) int {
	s := b.vals[name]
	x, err := strconv.ParseInt(s, 10, 0)
	if err != nil {
		b.failf("%s: %q is not a whole number", name, s)
		return 0
	}
	return int(x)
}

func (b *bound) bool(name string) bool {
	s := strings.ToLower(b.vals[name])
	switch s {
	case "true", "1", "yes", "on":
		return true
	case "false", "0", "no", "off":
		return false
	}
	b.failf("%s: %q is not true or false", name, s)
	return false
}

func (b *bound) ints(name string) []int {
	s := b.vals[name]
	var out []int
	for f := range strings.SplitSeq(s, "/") {
		x, err := strconv.ParseInt(strings.TrimSpace(f), 10, 0)
		if err != nil {
			b.failf("%s: %q is not a list of whole numbers like 5/15/30", name, s)
			return nil
		}
		out = append(out, int(x))
	}
	return out
}

// choice returns the value of name, which must be one of opts.
func (b *bound) choice(name string, opts ...string) string {
	s := strings.ToLower(b.vals[name])
	for _, o := range opts {
		if s == o {
			return s
		}
	}
	b.failf("%s: %q is not one of %s", name, s, strings.Join(opts, ", "))
	return opts[0]
}
