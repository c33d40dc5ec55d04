package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	gmat "gonum.org/v1/gonum/mat"
)

// initScheme is a parsed --init value.
type initScheme struct {
	name string
	arg  float64 // uniform: half-width; normal: std; orthogonal: gain
}

// Default arguments of the parameterized schemes.
const (
	DefaultUniformA       = 0.05 // "uniform": U(-0.05, 0.05), as Keras' RandomUniform
	DefaultNormalStd      = 0.01 // "normal": N(0, 0.01²)
	DefaultOrthogonalGain = 1.0  // "orthogonal": PyTorch's default gain
)

// maxInitArg bounds the scale of the parameterized schemes so draws stay finite in float32.
const maxInitArg = 1e6

// CheckInit reports whether scheme is a valid --init value, with an error naming the
// flag; Net.Init accepts exactly the schemes CheckInit accepts.
func CheckInit(scheme string) error {
	_, err := parseInit(scheme)
	return err
}

func parseInit(s string) (initScheme, error) {
	name, arg, hasArg := strings.Cut(strings.TrimSpace(s), ":")
	switch name {
	case "glorot_uniform":
		name = "xavier_uniform"
	case "glorot_normal":
		name = "xavier_normal"
	case "kaiming_uniform":
		name = "he_uniform"
	case "kaiming_normal":
		name = "he_normal"
	}
	sc := initScheme{name: name}
	switch name {
	case "uniform":
		sc.arg = DefaultUniformA
	case "normal":
		sc.arg = DefaultNormalStd
	case "orthogonal":
		sc.arg = DefaultOrthogonalGain
	case "zeros", "default", "xavier_uniform", "xavier_normal", "he_uniform", "he_normal":
		if hasArg {
			return sc, fmt.Errorf("--init: %q: %s takes no parameter", s, name)
		}
		return sc, nil
	default:
		return sc, fmt.Errorf("--init: %q: want default, zeros, uniform[:A], normal[:STD], xavier_uniform, xavier_normal, he_uniform, he_normal or orthogonal[:GAIN]", s)
	}
	if hasArg {
		v, err := strconv.ParseFloat(strings.TrimSpace(arg), 64)
		if err != nil || !(v > 0 && v <= maxInitArg) {
			return sc, fmt.Errorf("--init: %q: the parameter of %s must be a number in (0, %g]", s, name, maxInitArg)
		}
		sc.arg = v
	}
	return sc, nil
}

// Init fills params (len == NumParams) with a fresh draw of the scheme, consuming rng
// in layout order, weights row-major, so a seed reproduces the parameters exactly.
// Weights of each Dense layer (out, in) get:
//
//	default         U(-1/√in, 1/√in), PyTorch nn.Linear's kaiming_uniform(a=√5); bias too
//	zeros           0
//	uniform[:A]     U(-A, A), A = 0.05 by default
//	normal[:STD]    N(0, STD²), STD = 0.01 by default
//	xavier_uniform  U(-b, b), b = √(6/(in+out))  (alias glorot_uniform; gain 1)
//	xavier_normal   N(0, 2/(in+out))             (alias glorot_normal)
//	he_uniform      U(-b, b), b = √(6/in)        (alias kaiming_uniform; gain √2, fan_in)
//	he_normal       N(0, 2/in)                   (alias kaiming_normal)
//	orthogonal[:G]  G·Q, Q from the QR decomposition of a Gaussian matrix with the signs
//	                of R's diagonal folded in (PyTorch's orthogonal_): WᵀW = G²·I
//	                when out >= in, WWᵀ = G²·I otherwise
//
// Biases are zero except with "default". Errors name the --init flag. Init allocates
// only for orthogonal (the QR decomposition, in float64); it is safe for concurrent use
// on different params and rngs.
func (n *Net) Init(params []float32, scheme string, rng *rand.Rand) error {
	sc, err := parseInit(scheme)
	if err != nil {
		return err
	}
	if len(params) != n.NumParams() {
		panic(errParamsLen)
	}
	for _, l := range n.net.layers {
		d, ok := l.(*dense[float32])
		if !ok {
			continue
		}
		w := params[d.w : d.w+d.out*d.in]
		b := params[d.b : d.b+d.out]
		clear(b)
		initWeights(w, d.out, d.in, sc, rng)
		if sc.name == "default" {
			fillUniform(b, 1/math.Sqrt(float64(d.in)), rng)
		}
	}
	return nil
}

// initWeights fills the (out, in) row-major weight w.
func initWeights(w []float32, out, in int, sc initScheme, rng *rand.Rand) {
	fanIn, fanOut := float64(in), float64(out)
	switch sc.name {
	case "zeros":
		clear(w)
	case "default":
		fillUniform(w, 1/math.Sqrt(fanIn), rng)
	case "uniform":
		fillUniform(w, sc.arg, rng)
	case "normal":
		fillNormal(w, sc.arg, rng)
	case "xavier_uniform":
		fillUniform(w, math.Sqrt(6/(fanIn+fanOut)), rng)
	case "xavier_normal":
		fillNormal(w, math.Sqrt(2/(fanIn+fanOut)), rng)
	case "he_uniform":
		fillUniform(w, math.Sqrt(6/fanIn), rng)
	case "he_normal":
		fillNormal(w, math.Sqrt(2/fanIn), rng)
	case "orthogonal":
		fillOrthogonal(w, out, in, sc.arg, rng)
	default:
		panic("ops: unknown init scheme " + sc.name)
	}
}

func fillUniform(v []float32, a float64, rng *rand.Rand) {
	for i := range v {
		v[i] = float32(a * (2*rng.Float64() - 1))
	}
}

func fillNormal(v []float32, std float64, rng *rand.Rand) {
	for i := range v {
		v[i] = float32(std * rng.NormFloat64())
	}
}

// fillOrthogonal follows torch.nn.init.orthogonal_: draw a rows×cols Gaussian matrix,
// factor its transpose when rows < cols, correct Q's column signs by R's diagonal.
func fillOrthogonal(w []float32, rows, cols int, gain float64, rng *rand.Rand) {
	g := make([]float64, rows*cols)
	for i := range g {
		g[i] = rng.NormFloat64()
	}
	a := gmat.Matrix(gmat.NewDense(rows, cols, g))
	r, c := rows, cols
	if rows < cols {
		a = a.T()
		r, c = cols, rows
	}
	var qr gmat.QR
	qr.Factorize(a)
	var q, rr gmat.Dense
	qr.QTo(&q)
	qr.RTo(&rr)
	for j := range c {
		s := gain
		if rr.At(j, j) < 0 {
			s = -gain
		}
		for i := range r {
			v := float32(s * q.At(i, j)) // Q is r×r; its first c columns span a
			if rows < cols {
				w[j*cols+i] = v // transpose back: W is (rows=c, cols=r)
			} else {
				w[i*cols+j] = v
			}
		}
	}
}
