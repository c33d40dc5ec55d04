//go:build !amd64 || noasm

package feature

// Without assembly kernels (another architecture, or -tags noasm) every row
// runs the pure-Go loops of transform.go; the functions below are never
// called.
var (
	haveAsm = false
	useAsm  = false
)

func noAsm() bool { panic("feature: no assembly kernels in this build") }

func scaleU8Asm(_ []float32, _ []uint8, _, _ []float64)            { noAsm() }
func scaleU8FiniteAsm(_ []float32, _ []uint8, _, _ []float64) bool { return noAsm() }
func scaleF32FiniteAsm(_, _ []float32, _, _ []float64) bool        { return noAsm() }
