package stages

import (
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"text/tabwriter"

	"golang.org/x/sys/unix"
)

// MemoryLine is one row of a training run's memory ledger: a part of the graph, the share of
// --memory-budget it was given and the peak bytes it held.
type MemoryLine struct {
	Part   string // "shuffle buffer", "activations", ...
	Stage  string // the stage that holds it
	Budget int64  // bytes set aside for it
	Peak   int64  // most bytes it held during the run (-1: not measured)
	Note   string
}

// MemoryLedger is how a run divided --memory-budget and what each part used.
type MemoryLedger struct {
	Total int64
	Lines []MemoryLine
}

// WriteTo prints the ledger as an aligned table.
func (l MemoryLedger) WriteTo(w io.Writer) (int64, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "memory budget %s (--memory-budget)\n", formatBytes(l.Total))
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "part\tstage\tshare\tpeak\tnote")
	for _, m := range l.Lines {
		peak := "-"
		if m.Peak >= 0 {
			peak = formatBytes(m.Peak)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", m.Part, m.Stage, formatBytes(m.Budget), peak, m.Note)
	}
	tw.Flush()
	n, err := io.WriteString(w, b.String())
	return int64(n), err
}

// String returns the table WriteTo prints.
func (l MemoryLedger) String() string {
	var b strings.Builder
	l.WriteTo(&b)
	return b.String()
}

// counted wraps a free list's constructor to count what it made.
func counted[T any](n *atomic.Int64, make func() T) func() T {
	return func() T {
		n.Add(1)
		return make()
	}
}

// modelMemory estimates the bytes of the training side for the budget: workspaces (activations kept
// for backward plus scratch), gradient buffers and parameter snapshots. The estimate is an upper
// bound of what the pools will make given the workers, micro-batches and staleness.
func (t *Trainer) modelMemory() (acts, grads, snaps int64) {
	width := int64(t.features.Dim)
	for _, l := range t.spec.Layers {
		if l.Units > 0 {
			width += 3 * int64(l.Units) // activation, pre-activation scratch, gradient
		} else {
			width += int64(t.net.InDim())
		}
	}
	width += 3 * int64(t.net.OutDim())
	perAct := width * int64(t.microRows()) * 4
	params := int64(t.net.NumParams()) * 4
	micro := int64((t.batch + t.microRows() - 1) / t.microRows())
	workers := int64(t.cfg.Workers)
	inFlight := 3*workers + 2 // activations in forward, backward and the edges between them
	acts = inFlight * perAct
	grads = (micro*int64(t.cfg.Staleness+2) + 2*workers + 2) * params
	snaps = int64(t.cfg.Staleness+2) * params
	if t.cfg.Staleness == 0 {
		snaps = params // the optimizer's own vector, updated in place (NewInPlaceParamStore)
	}
	return acts, grads, snaps
}

// ledger reports the budget split and the peaks after a run.
func (t *Trainer) ledger() MemoryLedger {
	acts, grads, snaps := t.modelMemory()
	params := int64(t.net.NumParams()) * 4
	perAct := acts / int64(3*t.cfg.Workers+2)
	var shufflePeak int64
	for _, q := range t.dp.Quality.Epochs() {
		shufflePeak = max(shufflePeak, q.BufferBytes)
	}
	actStage, gradStage, optStage := "compute", "compute", "compute"
	if t.cfg.SplitPasses {
		actStage, gradStage, optStage = "forward/backward", "backward/reduce", "optimize"
	}
	snapNote := fmt.Sprintf("staleness %d", t.cfg.Staleness)
	if t.cfg.Staleness == 0 {
		snapNote = "staleness 0: the optimizer's parameters, updated in place"
	}
	l := MemoryLedger{Total: t.memBudget, Lines: []MemoryLine{
		{Part: "shuffle buffer, shard cache, data queues", Stage: "read/shuffle", Budget: t.dataBudget, Peak: shufflePeak + t.dp.CacheBytes(),
			Note: fmt.Sprintf("buffer of %d rows; shard cache %s", t.dp.Plan.Buffer(), formatBytes(t.dp.CacheBytes()))},
		{Part: "activations", Stage: actStage, Budget: acts, Peak: t.actsMade.Load() * perAct,
			Note: fmt.Sprintf("%d workspaces of %d rows", t.actsMade.Load(), t.microRows())},
		{Part: "gradients", Stage: gradStage, Budget: grads, Peak: t.gradsMade.Load() * params,
			Note: fmt.Sprintf("%d buffers of %d parameters", t.gradsMade.Load(), t.net.NumParams())},
		{Part: "parameter snapshots", Stage: optStage, Budget: snaps, Peak: snaps, Note: snapNote},
	}}
	if t.val != nil && t.val.cache != nil {
		l.Lines = append(l.Lines, MemoryLine{Part: "validation cache", Stage: "validate", Budget: t.valCacheBudget(),
			Peak: t.val.cache.size(), Note: "decoded validation data kept between evaluations"})
	}
	return l
}

// defaultMemoryBudget is a quarter of the machine's RAM (2 GiB where it cannot be read).
func defaultMemoryBudget() int64 {
	var si unix.Sysinfo_t
	if err := unix.Sysinfo(&si); err != nil || si.Totalram == 0 {
		return 2 << 30
	}
	return int64(si.Totalram) * int64(si.Unit) / 4
}
