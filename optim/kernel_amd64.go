//go:build amd64 && !noasm

package optim

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// haveAsm reports whether this build has the assembly kernels
// (kernel_amd64.s); useAsm whether this CPU runs them (AVX2). Tests turn
// useAsm off to run the pure-Go reference.
var (
	haveAsm = cpu.X86.HasAVX2
	useAsm  = haveAsm
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

func adamAsm(p, g, m, v []float32, h *adamHyper) bool {
	p, m, v = p[:len(g)], m[:len(g)], v[:len(g)]
	return adamAVX2(ptr(p), ptr(g), ptr(m), ptr(v), len(g), h)
}

func adamAMSGradAsm(p, g, m, v, vmax []float32, h *adamHyper) bool {
	p, m, v, vmax = p[:len(g)], m[:len(g)], v[:len(g)], vmax[:len(g)]
	return adamAMSGradAVX2(ptr(p), ptr(g), ptr(m), ptr(v), ptr(vmax), len(g), h)
}
