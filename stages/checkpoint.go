package stages

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"

	"github.com/sgdpipe/sgdpipe/io/safetensors"
	"github.com/sgdpipe/sgdpipe/optim"
)

// CheckpointFile is the name of the checkpoint inside the --checkpoint directory.
const CheckpointFile = "checkpoint.safetensors"

const (
	metaCheckpoint = "sgdpipe.checkpoint" // JSON of checkpointState
	optPrefix      = "optimizer."         // optimizer state tensors
	avgPrefix      = "average."           // averager state tensors
	schedPrefix    = "schedule."          // stateful schedule (plateau) tensors
)

// checkpointState is the scalar progress stored in a checkpoint's metadata. The data position is row
// indices (epoch and rows consumed in the epoch's order), never buffered rows, so the checkpoint's size
// does not depend on the shuffle buffer.
type checkpointState struct {
	Step      int64    `json:"step"`
	Epoch     int      `json:"epoch"`
	Emitted   int64    `json:"emitted"`
	LRScale   float64  `json:"lr_scale"`
	Skipped   int64    `json:"skipped"`
	BestVal   *float64 `json:"best_val,omitempty"`
	BadEvals  int      `json:"bad_evals"`
	Optimizer string   `json:"optimizer"`
	Recipe    string   `json:"recipe"`
	Seed      uint64   `json:"seed"`
	// Bad lists the parts of the data the run had left out (DataPath.BadShards); absent in
	// checkpoints written before it was recorded.
	Bad []BadShard `json:"bad"`
}

// checkpoint is a parsed checkpoint file.
type checkpoint struct {
	path  string
	model *Model
	state checkpointState
	file  *safetensors.File
}

// writeCheckpoint saves the model, the optimizer state, the averager and the progress atomically.
func (t *Trainer) writeCheckpoint() error {
	if t.cfg.CheckpointDir == "" {
		return nil
	}
	if err := os.MkdirAll(t.cfg.CheckpointDir, 0o755); err != nil {
		return fmt.Errorf("--checkpoint %s: %w", t.cfg.CheckpointDir, err)
	}
	path := filepath.Join(t.cfg.CheckpointDir, CheckpointFile)
	m := t.model(t.params)
	tensors := m.tensors(t.params)
	meta, err := m.metadata()
	if err != nil {
		return err
	}
	add := func(prefix string, st []optim.NamedVec) {
		for _, v := range st {
			if v.F32 != nil {
				tensors = append(tensors, safetensors.FromFloat32(prefix+v.Name, []int{len(v.F32)}, v.F32))
			} else {
				tensors = append(tensors, safetensors.FromFloat64(prefix+v.Name, []int{len(v.F64)}, v.F64))
			}
		}
	}
	add(optPrefix, t.opt.State())
	if t.avg != nil {
		add(avgPrefix, t.avg.State())
	}
	if p, ok := t.sched.(*optim.Plateau); ok {
		add(schedPrefix, p.State())
	}
	st := checkpointState{Step: t.state.Step, Epoch: t.state.Pos.Epoch, Emitted: t.state.Pos.Emitted,
		LRScale: t.state.LRScale, Skipped: t.state.Skipped, BadEvals: t.state.BadEvals, Bad: t.dp.BadShards(),
		Optimizer: t.opt.Name(), Recipe: t.cfg.recipe(), Seed: t.seed}
	if !math.IsInf(t.state.BestVal, 0) {
		b := t.state.BestVal
		st.BestVal = &b
	}
	js, err := json.Marshal(st)
	if err != nil {
		return err
	}
	meta[metaCheckpoint] = string(js)
	if err := safetensors.WriteFile(path, tensors, meta); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	t.lastCheckpoint = path
	if !t.staleTempsRemoved {
		removeStaleTemps(path)
		t.staleTempsRemoved = true
	}
	return nil
}

// removeStaleTemps deletes the temporary files that writes of path killed half way left behind
// (internal/atomicfile names them ".<base>.tmp-*" beside the target). This run's own write has
// committed when it is called, so every match is stale. Errors are ignored: a leftover costs only disk.
func removeStaleTemps(path string) {
	dir, base := filepath.Split(path)
	matches, _ := filepath.Glob(filepath.Join(dir, "."+base+".tmp-*"))
	for _, m := range matches {
		os.Remove(m)
	}
}

// loadCheckpoint reads DIR/checkpoint.safetensors.
func loadCheckpoint(dir string) (*checkpoint, error) {
	path := filepath.Join(dir, CheckpointFile)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("--resume: no checkpoint in %s (expected %s)", dir, CheckpointFile)
	}
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m, err := modelFrom(f)
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", path, err)
	}
	ck := &checkpoint{path: path, model: m, file: f}
	js, ok := f.Metadata()[metaCheckpoint]
	if !ok {
		return nil, fmt.Errorf("checkpoint %s: not a checkpoint (a model file has no training state)", path)
	}
	if err := json.Unmarshal([]byte(js), &ck.state); err != nil {
		return nil, fmt.Errorf("checkpoint %s: metadata %s: %w", path, metaCheckpoint, err)
	}
	return ck, nil
}

// readState collects the named state vectors stored under prefix.
func (ck *checkpoint) readState(prefix string, like []optim.NamedVec) ([]optim.NamedVec, error) {
	out := make([]optim.NamedVec, len(like))
	for i, v := range like {
		name := prefix + v.Name
		out[i].Name = v.Name
		var err error
		if v.F32 != nil {
			out[i].F32, err = ck.file.Float32(name)
		} else {
			out[i].F64, err = ck.file.Float64(name)
		}
		if err != nil {
			return nil, fmt.Errorf("checkpoint %s: %w", ck.path, err)
		}
	}
	return out, nil
}

// restore loads the checkpoint's optimizer, averager, schedule and progress into t.
func (ck *checkpoint) restore(t *Trainer) error {
	if ck.state.Recipe != t.cfg.recipe() {
		return fmt.Errorf("--resume: checkpoint %s was written by a run with another recipe; resume with the same flags (it has %s)", ck.path, ck.state.Recipe)
	}
	if ck.state.Optimizer != t.opt.Name() {
		return fmt.Errorf("--resume: checkpoint %s holds %s state, not %s", ck.path, ck.state.Optimizer, t.opt.Name())
	}
	st, err := ck.readState(optPrefix, t.opt.State())
	if err != nil {
		return err
	}
	if err := t.opt.LoadState(st); err != nil {
		return fmt.Errorf("checkpoint %s: %w", ck.path, err)
	}
	if t.avg != nil {
		st, err := ck.readState(avgPrefix, t.avg.State())
		if err != nil {
			return err
		}
		if err := t.avg.LoadState(st); err != nil {
			return fmt.Errorf("checkpoint %s: %w", ck.path, err)
		}
	}
	if p, ok := t.sched.(*optim.Plateau); ok {
		st, err := ck.readState(schedPrefix, p.State())
		if err != nil {
			return err
		}
		if err := p.LoadState(st); err != nil {
			return fmt.Errorf("checkpoint %s: %w", ck.path, err)
		}
	}
	s := ck.state
	t.state.Step, t.state.Pos = s.Step, Position{Epoch: s.Epoch, Emitted: s.Emitted}
	t.state.LRScale, t.state.Skipped, t.state.BadEvals = s.LRScale, s.Skipped, s.BadEvals
	if s.BestVal != nil {
		t.state.BestVal = *s.BestVal
	}
	t.lastCheckpoint = ck.path
	return nil
}
