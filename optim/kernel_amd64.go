//go:build amd64 && !noasm

package optim

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// haveAsm reports whether this build has the assembly kernels
// (kernel_amd64.s) and the CPU runs them (AVX2); useAsm whether to use them
// (tests turn it off to run the pure-Go reference). useAVX512 selects the
// AVX-512 versions of the kernels that have one (Adam's), on CPUs with
// AVX512F; tests turn it off to check the AVX2 versions too.
var (
	haveAsm    = cpu.X86.HasAVX2
	useAsm     = haveAsm
	haveAVX512 = haveAsm && cpu.X86.HasAVX512F
	useAVX512  = haveAVX512
)

// The assembly kernels of kernel_amd64.s. Each takes pointers to n >= 0
// elements, computes what the pure-Go kernel of the same name computes,
// bitwise, and returns whether every element it wrote to p (or dst) is
// finite. They trust their arguments: the wrappers below pass slices that
// Go has bounds-checked.

//go:noescape
func allFiniteAVX2(x *float32, n int) bool

//go:noescape
func addFiniteAVX2(dst, src *float32, n int) bool

//go:noescape
func sgdPlainAVX2(p, grad *float32, n int, lr, wd float32) bool

//go:noescape
func sgdMomentumAVX2(p, grad, b *float32, n int, lr, wd, mom, damp float32) bool

//go:noescape
func sgdNesterovAVX2(p, grad, b *float32, n int, lr, wd, mom, bmom, damp float32) bool

//go:noescape
func adamAVX2(p, grad, m, v *float32, n int, h *adamHyper) bool

//go:noescape
func adamAMSGradAVX2(p, grad, m, v, vmax *float32, n int, h *adamHyper) bool

func ptr(x []float32) *float32 { return unsafe.SliceData(x) }

func allFiniteAsm(g []float32) bool { return allFiniteAVX2(ptr(g), len(g)) }

func addFiniteAsm(dst, src []float32) bool {
	src = src[:len(dst)]
	return addFiniteAVX2(ptr(dst), ptr(src), len(dst))
}

func sgdPlainAsm(p, g []float32, lr, wd float32) bool {
	p = p[:len(g)]
	return sgdPlainAVX2(ptr(p), ptr(g), len(g), lr, wd)
}

func sgdMomentumAsm(p, g, b []float32, lr, wd, mom, damp float32) bool {
	p, b = p[:len(g)], b[:len(g)]
	return sgdMomentumAVX2(ptr(p), ptr(g), ptr(b), len(g), lr, wd, mom, damp)
}

func sgdNesterovAsm(p, g, b []float32, lr, wd, mom, bmom, damp float32) bool {
	p, b = p[:len(g)], b[:len(g)]
	return sgdNesterovAVX2(ptr(p), ptr(g), ptr(b), len(g), lr, wd, mom, bmom, damp)
}

//go:noescape
func adamAVX512(p, grad, m, v *float32, n int, h *adamHyper) bool

//go:noescape
func adamAMSGradAVX512(p, grad, m, v, vmax *float32, n int, h *adamHyper) bool

func adamAsm(p, g, m, v []float32, h *adamHyper) bool {
	p, m, v = p[:len(g)], m[:len(g)], v[:len(g)]
	if useAVX512 {
		return adamAVX512(ptr(p), ptr(g), ptr(m), ptr(v), len(g), h)
	}
	return adamAVX2(ptr(p), ptr(g), ptr(m), ptr(v), len(g), h)
}

func adamAMSGradAsm(p, g, m, v, vmax []float32, h *adamHyper) bool {
	p, m, v, vmax = p[:len(g)], m[:len(g)], v[:len(g)], vmax[:len(g)]
	if useAVX512 {
		return adamAMSGradAVX512(ptr(p), ptr(g), ptr(m), ptr(v), ptr(vmax), len(g), h)
	}
	return adamAMSGradAVX2(ptr(p), ptr(g), ptr(m), ptr(v), ptr(vmax), len(g), h)
}

//go:noescape
func scaleAVX2(x *float32, n int, c float32) bool

//go:noescape
func clipValueAVX2(x *float32, n int, hi float32) bool

//go:noescape
func averageAVX2(avg, p *float32, n int, w float32) bool

//go:noescape
func adagradAVX2(p, grad, s *float32, n int, clr, wd, eps float32) bool

//go:noescape
func rmsPlainAVX2(p, grad, v *float32, n int, h *rmsHyper) bool

//go:noescape
func rmsMomentumAVX2(p, grad, v, b *float32, n int, h *rmsHyper) bool

//go:noescape
func rmsCenteredAVX2(p, grad, v, ga *float32, n int, h *rmsHyper) bool

//go:noescape
func rmsCenteredMomentumAVX2(p, grad, v, ga, b *float32, n int, h *rmsHyper) bool

//go:noescape
func sumSquaresAVX2(x *float32, n int, s *[4]float64)

//go:noescape
func dotDecayedAVX2(grad, p, u *float32, n int, wd float32, s *[4]float64)

func scaleAsm(x []float32, c float32) bool { return scaleAVX2(ptr(x), len(x), c) }

func clipValueAsm(x []float32, hi float32) bool { return clipValueAVX2(ptr(x), len(x), hi) }

func averageAsm(avg, p []float32, w float32) bool {
	p = p[:len(avg)]
	return averageAVX2(ptr(avg), ptr(p), len(avg), w)
}

func adagradAsm(p, g, s []float32, clr, wd, eps float32) bool {
	p, s = p[:len(g)], s[:len(g)]
	return adagradAVX2(ptr(p), ptr(g), ptr(s), len(g), clr, wd, eps)
}

func rmsPlainAsm(p, g, v []float32, h *rmsHyper) bool {
	p, v = p[:len(g)], v[:len(g)]
	return rmsPlainAVX2(ptr(p), ptr(g), ptr(v), len(g), h)
}

func rmsMomentumAsm(p, g, v, b []float32, h *rmsHyper) bool {
	p, v, b = p[:len(g)], v[:len(g)], b[:len(g)]
	return rmsMomentumAVX2(ptr(p), ptr(g), ptr(v), ptr(b), len(g), h)
}

func rmsCenteredAsm(p, g, v, ga []float32, h *rmsHyper) bool {
	p, v, ga = p[:len(g)], v[:len(g)], ga[:len(g)]
	return rmsCenteredAVX2(ptr(p), ptr(g), ptr(v), ptr(ga), len(g), h)
}

func rmsCenteredMomentumAsm(p, g, v, ga, b []float32, h *rmsHyper) bool {
	p, v, ga, b = p[:len(g)], v[:len(g)], ga[:len(g)], b[:len(g)]
	return rmsCenteredMomentumAVX2(ptr(p), ptr(g), ptr(v), ptr(ga), ptr(b), len(g), h)
}

// sumSquaresAsm adds x[i]² to s[i%4] in index order; len(x) must be a
// multiple of 4.
func sumSquaresAsm(x []float32, s *[4]float64) { sumSquaresAVX2(ptr(x), len(x), s) }

// dotDecayedAsm adds (g[i]+wd·p[i])·u[i] to s[i%4] in index order; len(g)
// must be a multiple of 4.
func dotDecayedAsm(g, p, u []float32, wd float32, s *[4]float64) {
	p, u = p[:len(g)], u[:len(g)]
	dotDecayedAVX2(ptr(g), ptr(p), ptr(u), len(g), wd, s)
}

//go:noescape
func nadamAVX2(p, grad, m, v *float32, n int, h *nadamHyper) bool

//go:noescape
func radamRectAVX2(p, grad, m, v *float32, n int, h *adamHyper) bool

//go:noescape
func radamPlainAVX2(p, grad, m, v *float32, n int, h *adamHyper) bool

//go:noescape
func adamaxAVX2(p, grad, m, u *float32, n int, h *adamHyper) bool

//go:noescape
func adamHDAVX2(p, grad, m, v, u *float32, n int, h *adamHyper) bool

//go:noescape
func sgdHDAVX2(p, grad, prev *float32, n int, alpha, wd float32) bool

//go:noescape
func adadeltaAVX2(p, grad, v, u *float32, n int, lr, rho, rho1, eps, wd float32) bool

//go:noescape
func asgdAVX2(p, grad, ax *float32, n int, decay, eta, wd, mu float32) bool

//go:noescape
func asgdCopyAVX2(p, grad, ax *float32, n int, decay, eta, wd, mu float32) bool

func nadamAsm(p, g, m, v []float32, h *nadamHyper) bool {
	p, m, v = p[:len(g)], m[:len(g)], v[:len(g)]
	return nadamAVX2(ptr(p), ptr(g), ptr(m), ptr(v), len(g), h)
}

func radamRectAsm(p, g, m, v []float32, h *adamHyper) bool {
	p, m, v = p[:len(g)], m[:len(g)], v[:len(g)]
	return radamRectAVX2(ptr(p), ptr(g), ptr(m), ptr(v), len(g), h)
}

func radamPlainAsm(p, g, m, v []float32, h *adamHyper) bool {
	p, m, v = p[:len(g)], m[:len(g)], v[:len(g)]
	return radamPlainAVX2(ptr(p), ptr(g), ptr(m), ptr(v), len(g), h)
}

func adamaxAsm(p, g, m, u []float32, h *adamHyper) bool {
	p, m, u = p[:len(g)], m[:len(g)], u[:len(g)]
	return adamaxAVX2(ptr(p), ptr(g), ptr(m), ptr(u), len(g), h)
}

func adamHDAsm(p, g, m, v, u []float32, h *adamHyper) bool {
	p, m, v, u = p[:len(g)], m[:len(g)], v[:len(g)], u[:len(g)]
	return adamHDAVX2(ptr(p), ptr(g), ptr(m), ptr(v), ptr(u), len(g), h)
}

func sgdHDAsm(p, g, prev []float32, alpha, wd float32) bool {
	p, prev = p[:len(g)], prev[:len(g)]
	return sgdHDAVX2(ptr(p), ptr(g), ptr(prev), len(g), alpha, wd)
}

func adadeltaAsm(p, g, v, u []float32, lr, rho, rho1, eps, wd float32) bool {
	p, v, u = p[:len(g)], v[:len(g)], u[:len(g)]
	return adadeltaAVX2(ptr(p), ptr(g), ptr(v), ptr(u), len(g), lr, rho, rho1, eps, wd)
}

func asgdAsm(p, g, ax []float32, decay, eta, wd, mu float32, copyAvg bool) bool {
	p, ax = p[:len(g)], ax[:len(g)]
	if copyAvg {
		return asgdCopyAVX2(ptr(p), ptr(g), ptr(ax), len(g), decay, eta, wd, mu)
	}
	return asgdAVX2(ptr(p), ptr(g), ptr(ax), len(g), decay, eta, wd, mu)
}

//go:noescape
func rpropAVX2(p, grad, prev, step *float32, n int, etaMinus, etaPlus, smin, smax float32) bool

func rpropAsm(p, g, prev, step []float32, etaMinus, etaPlus, smin, smax float32) bool {
	p, prev, step = p[:len(g)], prev[:len(g)], step[:len(g)]
	return rpropAVX2(ptr(p), ptr(g), ptr(prev), ptr(step), len(g), etaMinus, etaPlus, smin, smax)
}
