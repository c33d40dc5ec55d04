package ops

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Targets are the labels of a batch, one per row. Classification losses read Labels;
// regression losses read Values; BCEWithLogits reads Labels (0 or 1) or, when Labels
// is nil, probabilities in Values. The zero value holds no targets.
type Targets struct {
	Labels []int32 // class index per row (CrossEntropy), 0/1 (BCEWithLogits), 0/1 or -1/+1 (Hinge)
	Values Matrix  // (rows, outputs) real targets (MSE, Huber, soft BCEWithLogits)
}

// Link is the function that turns a model's raw outputs into predictions.
type Link int

const (
	LinkIdentity Link = iota // regression values, hinge decision values
	LinkSoftmax              // class probabilities from logits
	LinkSigmoid              // probability of class 1 from one logit
)

// Loss is a loss function of a model's raw outputs.
//
// Eval returns the SUM over the rows of out of the per-sample losses, computed in
// float64, and, when dst.Data is not nil, writes scale·∂(sum)/∂out into dst (same
// shape as out, must not alias it). With scale = 1/B over a batch of B rows, sum/B is
// the mean-reduced loss PyTorch reports and dst its gradient; a trainer that splits a
// batch into micro-batches passes scale = 1/B_full to each and adds the gradients.
// Per-sample losses of multi-output regression are means over the outputs, so the
// mean over rows equals PyTorch's mean over all elements.
//
// Eval returns an error (naming the row and value) for a label out of range or a
// missing or misshapen target, and panics on programmer errors (dst shaped unlike out).
// NaNs in out propagate to the sum: the caller checks for them. Implementations are
// stateless values, safe for concurrent use, and do not allocate.
type Loss interface {
	Eval(dst, out Matrix, y Targets, scale float32) (sum float64, err error)
	// Link returns how to turn outputs into predictions (see Net.Predict).
	Link() Link
	// String returns the loss in the syntax ParseLoss accepts.
	String() string
}

// CrossEntropy is softmax cross-entropy from logits with integer class labels, as
// PyTorch's nn.CrossEntropyLoss(label_smoothing=Smoothing): the target distribution
// is (1-Smoothing)·onehot + Smoothing/K over K classes. The log-sum-exp subtracts the
// row maximum, so large logits cannot overflow. Smoothing must be in [0, 1].
type CrossEntropy struct{ Smoothing float64 }

// BCEWithLogits is binary cross-entropy from logits, as PyTorch's
// nn.BCEWithLogitsLoss, computed as max(o,0) - o·t + log(1+e^-|o|) so it never
// overflows. With Labels, out has one column and labels are 0 or 1; with Values,
// targets are probabilities in [0, 1], one per output (multi-label).
type BCEWithLogits struct{}

// MSE is the squared error (o-t)², averaged over outputs, as PyTorch's nn.MSELoss
// (no 1/2 factor: the gradient is 2(o-t)).
type MSE struct{}

// Huber is PyTorch's nn.HuberLoss(delta=Delta): 0.5·r² for |r| <= Delta, else
// Delta·(|r| - 0.5·Delta), averaged over outputs. Delta must be > 0.
type Huber struct{ Delta float64 }

// Hinge is the linear SVM loss max(0, 1 - y·o) of Bottou's SGD work, for one output
// and labels mapped to y = +1 (label > 0) or -1 (label <= 0), so 0/1 and -1/+1 both work.
// Regularization belongs to the optimizer (weight decay).
type Hinge struct{}

var (
	_ Loss = CrossEntropy{}
	_ Loss = BCEWithLogits{}
	_ Loss = MSE{}
	_ Loss = Huber{}
	_ Loss = Hinge{}
)

// Eval implements Loss.
func (l CrossEntropy) Eval(dst, out Matrix, y Targets, scale float32) (float64, error) {
	return crossEntropy(mat[float32](dst), mat[float32](out), y.Labels, l.Smoothing, scale)
}

// Eval implements Loss.
func (BCEWithLogits) Eval(dst, out Matrix, y Targets, scale float32) (float64, error) {
	return bceWithLogits(mat[float32](dst), mat[float32](out), y.Labels, mat[float32](y.Values), scale)
}

// Eval implements Loss.
func (MSE) Eval(dst, out Matrix, y Targets, scale float32) (float64, error) {
	return regression(mat[float32](dst), mat[float32](out), mat[float32](y.Values), 0, scale)
}

// Eval implements Loss.
func (l Huber) Eval(dst, out Matrix, y Targets, scale float32) (float64, error) {
	if !(l.Delta > 0) || math.IsInf(l.Delta, 0) {
		return 0, fmt.Errorf("huber: delta must be finite and > 0, got %v", l.Delta)
	}
	return regression(mat[float32](dst), mat[float32](out), mat[float32](y.Values), l.Delta, scale)
}

// Eval implements Loss.
func (Hinge) Eval(dst, out Matrix, y Targets, scale float32) (float64, error) {
	return hinge(mat[float32](dst), mat[float32](out), y.Labels, scale)
}

// Link returns LinkSoftmax: outputs are logits of mutually exclusive classes.
func (CrossEntropy) Link() Link { return LinkSoftmax }

// Link returns LinkSigmoid: each output is the logit of a probability.
func (BCEWithLogits) Link() Link { return LinkSigmoid }

// Link returns LinkIdentity.
func (MSE) Link() Link { return LinkIdentity }

// Link returns LinkIdentity.
func (Huber) Link() Link { return LinkIdentity }

// Link returns LinkIdentity: the output is the SVM decision value; its sign is the class.
func (Hinge) Link() Link { return LinkIdentity }

// String returns "crossentropy" or "crossentropy:SMOOTHING".
func (l CrossEntropy) String() string {
	if l.Smoothing == 0 {
		return "crossentropy"
	}
	return "crossentropy:" + strconv.FormatFloat(l.Smoothing, 'g', -1, 64)
}

// String returns "bce".
func (BCEWithLogits) String() string { return "bce" }

// String returns "mse".
func (MSE) String() string { return "mse" }

// String returns "huber:DELTA".
func (l Huber) String() string { return "huber:" + strconv.FormatFloat(l.Delta, 'g', -1, 64) }

// String returns "hinge".
func (Hinge) String() string { return "hinge" }

// ParseLoss parses the --loss flag: crossentropy[:SMOOTHING] (alias ce), bce, mse,
// huber[:DELTA] (delta 1 by default, as PyTorch) or hinge. Errors name the flag.
func ParseLoss(s string) (Loss, error) {
	name, arg, hasArg := strings.Cut(strings.TrimSpace(s), ":")
	num := func(what string, ok func(float64) bool) (float64, error) {
		v, err := strconv.ParseFloat(strings.TrimSpace(arg), 64)
		if err != nil || !ok(v) {
			return 0, fmt.Errorf("--loss: %q: %s", s, what)
		}
		return v, nil
	}
	noArg := func(l Loss) (Loss, error) {
		if hasArg {
			return nil, fmt.Errorf("--loss: %q: %s takes no parameter", s, name)
		}
		return l, nil
	}
	switch name {
	case "crossentropy", "ce":
		if !hasArg {
			return CrossEntropy{}, nil
		}
		v, err := num("label smoothing must be a number in [0, 1], e.g. crossentropy:0.1", func(v float64) bool { return v >= 0 && v <= 1 })
		return CrossEntropy{Smoothing: v}, err
	case "huber":
		if !hasArg {
			return Huber{Delta: 1}, nil
		}
		v, err := num("delta must be a finite number > 0, e.g. huber:1.0", func(v float64) bool { return v > 0 && !math.IsInf(v, 0) })
		return Huber{Delta: v}, err
	case "bce":
		return noArg(BCEWithLogits{})
	case "mse":
		return noArg(MSE{})
	case "hinge":
		return noArg(Hinge{})
	}
	return nil, fmt.Errorf("--loss: %q: want crossentropy[:SMOOTHING], bce, mse, huber[:DELTA] or hinge", s)
}

// checkLossShapes panics if dst is set and shaped unlike out.
func checkLossShapes[T float](dst, out mat[T]) {
	out.check()
	if dst.Data == nil {
		return
	}
	dst.check()
	if dst.Rows != out.Rows || dst.Cols != out.Cols {
		panic(errShape)
	}
	if len(dst.Data) > 0 && len(out.Data) > 0 && &dst.Data[0] == &out.Data[0] {
		panic(errAliasedOut)
	}
}

func crossEntropy[T float](dst, out mat[T], labels []int32, smoothing float64, scale T) (float64, error) {
	checkLossShapes(dst, out)
	if !(smoothing >= 0 && smoothing <= 1) {
		return 0, fmt.Errorf("crossentropy: label smoothing must be in [0, 1], got %v", smoothing)
	}
	if len(labels) != out.Rows {
		return 0, fmt.Errorf("crossentropy: %d labels for %d rows (the loss needs integer class labels)", len(labels), out.Rows)
	}
	k := out.Cols
	if k < 2 {
		return 0, fmt.Errorf("crossentropy: needs at least 2 outputs (classes), got %d; use bce for one output", k)
	}
	if err := checkLabels(labels, k); err != nil {
		return 0, fmt.Errorf("crossentropy: %w", err)
	}
	var sum float64
	uniform := smoothing / float64(k)
	for i := range out.Rows {
		o := out.row(i)
		m := math.Inf(-1)
		var mean float64
		for _, v := range o {
			m = max(m, float64(v))
			mean += float64(v)
		}
		mean /= float64(k)
		var s float64
		for _, v := range o {
			s += math.Exp(float64(v) - m)
		}
		lse := m + math.Log(s)
		c := int(labels[i])
		// -Σ q_j log p_j with q = (1-ε)·onehot + ε/K and log p_j = o_j - lse.
		sum += (1-smoothing)*(lse-float64(o[c])) + smoothing*(lse-mean)
		if dst.Data == nil {
			continue
		}
		d := dst.row(i)[:len(o)]
		inv := 1 / s
		for j, v := range o {
			q := uniform
			if j == c {
				q += 1 - smoothing
			}
			d[j] = T((math.Exp(float64(v)-m)*inv - q) * float64(scale))
		}
	}
	return sum, nil
}

// checkLabels returns an error naming the first label outside [0, k).
func checkLabels(labels []int32, k int) error {
	for i, c := range labels {
		if c < 0 || int(c) >= k {
			return fmt.Errorf("label %d at row %d is out of range [0, %d)", c, i, k)
		}
	}
	return nil
}

func bceWithLogits[T float](dst, out mat[T], labels []int32, probs mat[T], scale T) (float64, error) {
	checkLossShapes(dst, out)
	if out.Cols == 0 {
		return 0, fmt.Errorf("bce: the model has no outputs")
	}
	useLabels := labels != nil
	if useLabels {
		if len(labels) != out.Rows {
			return 0, fmt.Errorf("bce: %d labels for %d rows", len(labels), out.Rows)
		}
		if out.Cols != 1 {
			return 0, fmt.Errorf("bce: with integer labels the model needs 1 output, got %d", out.Cols)
		}
		if err := checkLabels(labels, 2); err != nil {
			return 0, fmt.Errorf("bce: %w (want 0 or 1)", err)
		}
	} else {
		probs.check()
		if probs.Rows != out.Rows || probs.Cols != out.Cols {
			return 0, fmt.Errorf("bce: targets are %d×%d, outputs %d×%d", probs.Rows, probs.Cols, out.Rows, out.Cols)
		}
	}
	var sum float64
	perOut := 1 / float64(out.Cols)
	for i := range out.Rows {
		o := out.row(i)
		var tr []T
		if !useLabels {
			tr = probs.row(i)[:len(o)]
		}
		var rowSum float64
		for j, v := range o {
			var t float64
			if useLabels {
				t = float64(labels[i])
			} else {
				t = float64(tr[j])
				if !(t >= 0 && t <= 1) {
					return 0, fmt.Errorf("bce: target %v at row %d, column %d is not a probability in [0, 1]", t, i, j)
				}
			}
			x := float64(v)
			rowSum += max(x, 0) - x*t + math.Log1p(math.Exp(-math.Abs(x)))
			if dst.Data != nil {
				dst.Data[i*dst.Stride+j] = T((sigmoid(x) - t) * perOut * float64(scale))
			}
		}
		sum += rowSum * perOut
	}
	return sum, nil
}

// regression is MSE (delta == 0) or Huber (delta > 0).
func regression[T float](dst, out, target mat[T], delta float64, scale T) (float64, error) {
	checkLossShapes(dst, out)
	name := "mse"
	if delta > 0 {
		name = "huber"
	}
	if out.Cols == 0 {
		return 0, fmt.Errorf("%s: the model has no outputs", name)
	}
	if target.Data == nil && out.Rows > 0 {
		return 0, fmt.Errorf("%s: needs real-valued targets", name)
	}
	target.check()
	if target.Rows != out.Rows || target.Cols != out.Cols {
		return 0, fmt.Errorf("%s: targets are %d×%d, outputs %d×%d", name, target.Rows, target.Cols, out.Rows, out.Cols)
	}
	var sum float64
	perOut := 1 / float64(out.Cols)
	for i := range out.Rows {
		o := out.row(i)
		t := target.row(i)[:len(o)]
		var d []T
		if dst.Data != nil {
			d = dst.row(i)[:len(o)]
		}
		var rowSum float64
		for j, v := range o {
			r := float64(v) - float64(t[j])
			var g float64
			switch {
			case delta == 0:
				rowSum += r * r
				g = 2 * r
			case math.Abs(r) <= delta:
				rowSum += 0.5 * r * r
				g = r
			default:
				rowSum += delta * (math.Abs(r) - 0.5*delta)
				g = math.Copysign(delta, r)
			}
			if d != nil {
				d[j] = T(g * perOut * float64(scale))
			}
		}
		sum += rowSum * perOut
	}
	return sum, nil
}

func hinge[T float](dst, out mat[T], labels []int32, scale T) (float64, error) {
	checkLossShapes(dst, out)
	if out.Cols != 1 {
		return 0, fmt.Errorf("hinge: the model needs 1 output (a binary linear SVM), got %d", out.Cols)
	}
	if len(labels) != out.Rows {
		return 0, fmt.Errorf("hinge: %d labels for %d rows", len(labels), out.Rows)
	}
	var sum float64
	for i := range out.Rows {
		y := -1.0
		if labels[i] > 0 {
			y = 1
		}
		z := y * float64(out.Data[i*out.Stride])
		var g float64
		if z < 1 {
			sum += 1 - z
			g = -y
		}
		if dst.Data != nil {
			dst.Data[i*dst.Stride] = T(g * float64(scale))
		}
	}
	return sum, nil
}
