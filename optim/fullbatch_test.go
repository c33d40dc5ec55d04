package optim

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// The fullbatch_* golden files are end-to-end checks for the CLI; here the
// same full-batch linear and logistic regressions run with a hand-written
// gradient, to check the optimizers on a real loss surface over 50 steps.

type fullbatchFile struct {
	Name      string         `json:"name"`
	Dataset   string         `json:"dataset"`
	Target    string         `json:"target"`
	Optimizer string         `json:"optimizer"`
	Hyper     map[string]any `json:"hyper"`
	Steps     int            `json:"steps"`
	Weight    [][]float64    `json:"weight"`
	Bias      []float64      `json:"bias"`
	Losses    []float64      `json:"losses"`
	Final     float64        `json:"final_loss"`
}

// readTable reads a CSV of floats with a header; it returns the feature
// rows and the target column.
func readTable(t *testing.T, file, target string) (x [][]float64, y []float64) {
	t.Helper()
	f, err := os.Open(filepath.Join(goldenDir, file))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	ti := -1
	for i, h := range recs[0] {
		if h == target {
			ti = i
		}
	}
	for r, rec := range recs[1:] {
		var row []float64
		for i, s := range rec {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				t.Fatalf("%s row %d column %d: %v", file, r+2, i+1, err)
			}
			if i == ti {
				y = append(y, v)
			} else {
				row = append(row, v)
			}
		}
		x = append(x, row)
	}
	return x, y
}

// lossGrad computes the mean loss at params (W (out, in) row-major, then b
// (out)) and its gradient into g, in float64.
func lossGrad(x [][]float64, y []float64, out int, ce bool, params []float32, g []float32) float64 {
	in := len(x[0])
	acc := make([]float64, len(g))
	loss := 0.0
	z := make([]float64, out)
	nrm := 1 / float64(len(x))
	for r, row := range x {
		for o := range out {
			z[o] = float64(params[out*in+o])
			for i, v := range row {
				z[o] += float64(params[o*in+i]) * v
			}
		}
		if !ce { // MSE, no 1/2: d/dz = 2(z-y)/N
			d := z[0] - y[r]
			loss += d * d
			z[0] = 2 * d
		} else { // softmax cross-entropy: d/dz = p - onehot(y)
			m := math.Inf(-1)
			for _, v := range z {
				m = max(m, v)
			}
			s := 0.0
			for o := range z {
				z[o] = math.Exp(z[o] - m)
				s += z[o]
			}
			lab := int(y[r])
			loss -= math.Log(z[lab] / s)
			for o := range z {
				z[o] /= s
			}
			z[lab]--
		}
		for o := range out {
			for i, v := range row {
				acc[o*in+i] += z[o] * v
			}
			acc[out*in+o] += z[o]
		}
	}
	for i := range g {
		g[i] = float32(acc[i] * nrm)
	}
	return loss * nrm
}

func TestFullBatchRegression(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(goldenDir, "fullbatch_*.json"))
	if err != nil || len(files) < 6 {
		t.Fatalf("want the 6 fullbatch files, got %v (%v)", files, err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var fb fullbatchFile
			if err := json.Unmarshal(b, &fb); err != nil {
				t.Fatal(err)
			}
			x, y := readTable(t, fb.Dataset, fb.Target)
			out, in := len(fb.Weight), len(fb.Weight[0])
			if len(x[0]) != in {
				t.Fatalf("%d features, weight has %d", len(x[0]), in)
			}
			ce := fb.Target == "label"
			n := out*in + out
			cfg := Config{N: n, LR: fb.Hyper["lr"].(float64)}
			if m, ok := fb.Hyper["momentum"].(float64); ok {
				cfg.Momentum = m
			}
			if wd, ok := fb.Hyper["weight_decay"].(float64); ok {
				cfg.WeightDecay = wd
			}
			name := map[string]string{"SGD": "sgd", "Adam": "adam", "AdamW": "adamw"}[fb.Optimizer]
			opt, err := New(name, cfg)
			if err != nil {
				t.Fatal(err)
			}
			p, g := make([]float32, n), make([]float32, n)
			k := &tracker{t: t}
			for s := range fb.Steps {
				loss := lossGrad(x, y, out, ce, p, g)
				if d := math.Abs(loss-fb.Losses[s]) / math.Max(1, math.Abs(fb.Losses[s])); d > tol32 {
					t.Fatalf("loss before step %d: %.9g, want %.9g", s+1, loss, fb.Losses[s])
				}
				opt.Step(p, g)
			}
			want := append([]float64(nil), fb.Bias...)
			for o := out - 1; o >= 0; o-- {
				want = append(append([]float64(nil), fb.Weight[o]...), want...)
			}
			k.vec(fmt.Sprintf("%s weight and bias after %d steps", fb.Name, fb.Steps), p, want, tol32)
			final := lossGrad(x, y, out, ce, p, g)
			k.scalar("final loss", final, fb.Final, tol32)
			t.Logf("%s: worst parameter deviation %.2g", fb.Name, k.worst)
		})
	}
}
