package ops

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Layer types accepted in a LayerSpec.
const (
	LayerDense     = "dense"
	LayerReLU      = "relu"
	LayerLeakyReLU = "leakyrelu"
	LayerTanh      = "tanh"
	LayerSigmoid   = "sigmoid"
	LayerGELU      = "gelu"      // exact, x·Φ(x) with Φ from erf (PyTorch's default)
	LayerGELUTanh  = "gelu_tanh" // tanh approximation (PyTorch's approximate="tanh")
	LayerSoftmax   = "softmax"
	LayerDropout   = "dropout"
)

// Limits that keep a spec read from a file or a flag from asking for absurd memory.
const (
	MaxUnits  = 1 << 20 // widest layer
	MaxLayers = 1 << 10 // longest stack
	MaxParams = 1 << 31 // most parameters (8 GiB of float32)
)

// DefaultLeakySlope is the negative slope of a leakyrelu layer whose Slope is 0, as
// PyTorch's nn.LeakyReLU default.
const DefaultLeakySlope = 0.01

// LayerSpec describes one layer of a sequential stack.
type LayerSpec struct {
	Type  string  `json:"type"`            // one of the Layer* constants
	Units int     `json:"units,omitempty"` // dense: output width, 1..MaxUnits
	Slope float64 `json:"slope,omitempty"` // leakyrelu: negative slope, finite; 0 means DefaultLeakySlope
	Rate  float64 `json:"rate,omitempty"`  // dropout: drop probability in [0, 1)
}

// Spec describes a model as the hidden part of a sequential stack; NewNet appends the
// output Dense layer, whose width comes from the data. The zero value (no hidden
// layers) is a linear model. A Spec is a plain value, JSON-serializable, so a model can
// be rebuilt from its file; it is safe for concurrent reads.
type Spec struct {
	Layers []LayerSpec `json:"layers"`
}

// ParseSpec parses the --model, --activation and --dropout flags into a Spec.
//
// model is "linear" or "mlp:W1,W2,..." (hidden widths, each 1..MaxUnits).
// activation is relu (used when empty), leakyrelu or leakyrelu:SLOPE, tanh, sigmoid,
// gelu (exact, erf-based, PyTorch's default) or gelu_tanh. dropout in [0, 1) adds a
// Dropout after each hidden activation (Dense, activation, Dropout, as usually written
// in PyTorch). A linear model has no hidden layer: activation must then be empty or
// relu (the flag default) and dropout 0, since anything else would silently do
// nothing. Errors name the flag at fault.
func ParseSpec(model, activation string, dropout float64) (Spec, error) {
	model = strings.TrimSpace(model)
	act, err := parseActivation(activation)
	if err != nil {
		return Spec{}, err
	}
	if math.IsNaN(dropout) || dropout < 0 || dropout >= 1 {
		return Spec{}, fmt.Errorf("--dropout: must be in [0, 1), got %v", dropout)
	}
	kind, widths, hasWidths := strings.Cut(model, ":")
	switch strings.TrimSpace(kind) {
	case "linear":
		if hasWidths {
			return Spec{}, fmt.Errorf("--model: %q: linear takes no layer widths; use mlp:%s for hidden layers", model, widths)
		}
		if act.Type != LayerReLU {
			return Spec{}, fmt.Errorf("--activation: %q has no effect on --model linear (it has no hidden layer)", activation)
		}
		if dropout != 0 {
			return Spec{}, fmt.Errorf("--dropout: %v has no effect on --model linear (it has no hidden layer)", dropout)
		}
		return Spec{}, nil
	case "mlp":
	default:
		return Spec{}, fmt.Errorf("--model: %q: want linear or mlp:W1,W2,... (e.g. mlp:256,128)", model)
	}
	if !hasWidths || strings.TrimSpace(widths) == "" {
		return Spec{}, fmt.Errorf("--model: %q: mlp needs hidden layer widths, e.g. mlp:256,128", model)
	}
	parts := strings.Split(widths, ",")
	if len(parts) > MaxLayers/3 {
		return Spec{}, fmt.Errorf("--model: %q: %d hidden layers, at most %d supported", model, len(parts), MaxLayers/3)
	}
	var s Spec
	for _, p := range parts {
		w, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || w < 1 || w > MaxUnits {
			return Spec{}, fmt.Errorf("--model: %q: layer width %q must be an integer in [1, %d]", model, p, MaxUnits)
		}
		s.Layers = append(s.Layers, LayerSpec{Type: LayerDense, Units: w}, act)
		if dropout > 0 {
			s.Layers = append(s.Layers, LayerSpec{Type: LayerDropout, Rate: dropout})
		}
	}
	return s, nil
}

// parseActivation parses the --activation flag.
func parseActivation(s string) (LayerSpec, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return LayerSpec{Type: LayerReLU}, nil
	}
	name, arg, hasArg := strings.Cut(s, ":")
	switch name {
	case LayerReLU, LayerTanh, LayerSigmoid, LayerGELU, LayerGELUTanh:
		if hasArg {
			return LayerSpec{}, fmt.Errorf("--activation: %q: %s takes no parameter", s, name)
		}
		return LayerSpec{Type: name}, nil
	case LayerLeakyReLU:
		l := LayerSpec{Type: LayerLeakyReLU, Slope: DefaultLeakySlope}
		if hasArg {
			v, err := strconv.ParseFloat(strings.TrimSpace(arg), 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v == 0 {
				return LayerSpec{}, fmt.Errorf("--activation: %q: slope must be a finite non-zero number, e.g. leakyrelu:0.2", s)
			}
			l.Slope = v
		}
		return l, nil
	}
	return LayerSpec{}, fmt.Errorf("--activation: %q: want relu, leakyrelu[:SLOPE], tanh, sigmoid, gelu or gelu_tanh", s)
}

// Validate checks every layer of s and returns an error naming the first bad one.
func (s Spec) Validate() error {
	if len(s.Layers) > MaxLayers {
		return fmt.Errorf("model spec: %d layers, at most %d supported", len(s.Layers), MaxLayers)
	}
	for i, l := range s.Layers {
		if err := l.validate(); err != nil {
			return fmt.Errorf("model spec: layer %d: %w", i, err)
		}
	}
	return nil
}

func (l LayerSpec) validate() error {
	switch l.Type {
	case LayerDense:
		if l.Units < 1 || l.Units > MaxUnits {
			return fmt.Errorf("dense: units must be in [1, %d], got %d", MaxUnits, l.Units)
		}
	case LayerLeakyReLU:
		if math.IsNaN(l.Slope) || math.IsInf(l.Slope, 0) {
			return fmt.Errorf("leakyrelu: slope must be finite, got %v", l.Slope)
		}
	case LayerDropout:
		if math.IsNaN(l.Rate) || l.Rate < 0 || l.Rate >= 1 {
			return fmt.Errorf("dropout: rate must be in [0, 1), got %v", l.Rate)
		}
	case LayerReLU, LayerTanh, LayerSigmoid, LayerGELU, LayerGELUTanh, LayerSoftmax:
	default:
		return fmt.Errorf("unknown layer type %q (want dense, relu, leakyrelu, tanh, sigmoid, gelu, gelu_tanh, softmax or dropout)", l.Type)
	}
	if l.Type != LayerDense && l.Units != 0 {
		return fmt.Errorf("%s: units is only for dense layers, got %d", l.Type, l.Units)
	}
	if l.Type != LayerLeakyReLU && l.Slope != 0 {
		return fmt.Errorf("%s: slope is only for leakyrelu layers, got %v", l.Type, l.Slope)
	}
	if l.Type != LayerDropout && l.Rate != 0 {
		return fmt.Errorf("%s: rate is only for dropout layers, got %v", l.Type, l.Rate)
	}
	return nil
}

// String renders s compactly, e.g. "dense(256)-relu-dropout(0.1)-dense(out)"; the
// final "dense(out)" is the output layer NewNet adds.
func (s Spec) String() string {
	var b strings.Builder
	for _, l := range s.Layers {
		switch l.Type {
		case LayerDense:
			fmt.Fprintf(&b, "dense(%d)-", l.Units)
		case LayerLeakyReLU:
			fmt.Fprintf(&b, "leakyrelu(%v)-", l.slope())
		case LayerDropout:
			fmt.Fprintf(&b, "dropout(%v)-", l.Rate)
		default:
			b.WriteString(l.Type + "-")
		}
	}
	b.WriteString("dense(out)")
	return b.String()
}

func (l LayerSpec) slope() float64 {
	if l.Slope == 0 {
		return DefaultLeakySlope
	}
	return l.Slope
}
