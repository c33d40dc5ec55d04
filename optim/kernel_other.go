//go:build !amd64 || noasm

package optim

// Without assembly kernels (another architecture, or -tags noasm) every
// kernel runs its pure-Go loop; the functions below are never called.
var (
	haveAsm = false
	useAsm  = false
)

func noAsm() bool { panic("optim: no assembly kernels in this build") }

func allFiniteAsm([]float32) bool                                  { return noAsm() }
func addFiniteAsm(_, _ []float32) bool                             { return noAsm() }
func sgdPlainAsm(_, _ []float32, _, _ float32) bool                { return noAsm() }
func sgdMomentumAsm(_, _, _ []float32, _, _, _, _ float32) bool    { return noAsm() }
func sgdNesterovAsm(_, _, _ []float32, _, _, _, _, _ float32) bool { return noAsm() }
func adamAsm(_, _, _, _ []float32, _ *adamHyper) bool              { return noAsm() }
func adamAMSGradAsm(_, _, _, _, _ []float32, _ *adamHyper) bool    { return noAsm() }
