//go:build !amd64 || noasm

package optim

// Without assembly kernels (another architecture, or -tags noasm) every
// kernel runs its pure-Go loop; the functions below are never called.
var (
	haveAsm    = false
	useAsm     = false
	haveAVX512 = false
	useAVX512  = false
)

func noAsm() bool { panic("optim: no assembly kernels in this build") }

func allFiniteAsm([]float32) bool                                  { return noAsm() }
func addFiniteAsm(_, _ []float32) bool                             { return noAsm() }
func sgdPlainAsm(_, _ []float32, _, _ float32) bool                { return noAsm() }
func sgdMomentumAsm(_, _, _ []float32, _, _, _, _ float32) bool    { return noAsm() }
func sgdNesterovAsm(_, _, _ []float32, _, _, _, _, _ float32) bool { return noAsm() }
func adamAsm(_, _, _, _ []float32, _ *adamHyper) bool              { return noAsm() }
func adamAMSGradAsm(_, _, _, _, _ []float32, _ *adamHyper) bool    { return noAsm() }

func scaleAsm([]float32, float32) bool                                 { return noAsm() }
func clipValueAsm([]float32, float32) bool                             { return noAsm() }
func averageAsm(_, _ []float32, _ float32) bool                        { return noAsm() }
func adagradAsm(_, _, _ []float32, _, _, _ float32) bool               { return noAsm() }
func rmsPlainAsm(_, _, _ []float32, _ *rmsHyper) bool                  { return noAsm() }
func rmsMomentumAsm(_, _, _, _ []float32, _ *rmsHyper) bool            { return noAsm() }
func rmsCenteredAsm(_, _, _, _ []float32, _ *rmsHyper) bool            { return noAsm() }
func rmsCenteredMomentumAsm(_, _, _, _, _ []float32, _ *rmsHyper) bool { return noAsm() }
func sumSquaresAsm([]float32, *[4]float64)                             { noAsm() }
func dotDecayedAsm(_, _, _ []float32, _ float32, _ *[4]float64)        { noAsm() }

func nadamAsm(_, _, _, _ []float32, _ *nadamHyper) bool            { return noAsm() }
func radamRectAsm(_, _, _, _ []float32, _ *adamHyper) bool         { return noAsm() }
func radamPlainAsm(_, _, _, _ []float32, _ *adamHyper) bool        { return noAsm() }
func adamaxAsm(_, _, _, _ []float32, _ *adamHyper) bool            { return noAsm() }
func adamHDAsm(_, _, _, _, _ []float32, _ *adamHyper) bool         { return noAsm() }
func sgdHDAsm(_, _, _ []float32, _, _ float32) bool                { return noAsm() }
func adadeltaAsm(_, _, _, _ []float32, _, _, _, _, _ float32) bool { return noAsm() }
func asgdAsm(_, _, _ []float32, _, _, _, _ float32, _ bool) bool   { return noAsm() }

func rpropAsm(_, _, _, _ []float32, _, _, _, _ float32) bool { return noAsm() }
