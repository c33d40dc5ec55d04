//go:build amd64 && !noasm

package feature

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// haveAsm reports whether this build has the normalization kernels of
// scale_amd64.s and the CPU runs them (AVX2); useAsm whether to use them
// (tests and benchmarks turn it off to run the pure-Go loops of
// transform.go).
var (
	haveAsm = cpu.X86.HasAVX2
	useAsm  = haveAsm
)

// The assembly kernels of scale_amd64.s. Each takes pointers to n >= 0
// elements and writes dst[j] = float32((float64(src[j]) - shift[j]) *
// scale[j]) bitwise as scaleRow does; the Finite ones also return whether
// every element they wrote is finite, as scaleRowFinite does. They trust
// their arguments: the wrappers below pass slices that Go has
// bounds-checked.

//go:noescape
func scaleU8AVX2(dst *float32, src *uint8, shift, scale *float64, n int)

//go:noescape
func scaleU8FiniteAVX2(dst *float32, src *uint8, shift, scale *float64, n int) bool

//go:noescape
func scaleF32FiniteAVX2(dst, src *float32, shift, scale *float64, n int) bool

// scaleU8Asm is scaleRow for uint8 sources, through scaleU8AVX2.
func scaleU8Asm(dst []float32, src []uint8, shift, scale []float64) {
	dst, shift, scale = dst[:len(src)], shift[:len(src)], scale[:len(src)]
	scaleU8AVX2(unsafe.SliceData(dst), unsafe.SliceData(src), unsafe.SliceData(shift), unsafe.SliceData(scale), len(src))
}

// scaleU8FiniteAsm is scaleRowFinite for uint8 sources, through scaleU8FiniteAVX2.
func scaleU8FiniteAsm(dst []float32, src []uint8, shift, scale []float64) bool {
	dst, shift, scale = dst[:len(src)], shift[:len(src)], scale[:len(src)]
	return scaleU8FiniteAVX2(unsafe.SliceData(dst), unsafe.SliceData(src), unsafe.SliceData(shift), unsafe.SliceData(scale), len(src))
}

// scaleF32FiniteAsm is scaleRowFinite for float32 sources, through scaleF32FiniteAVX2.
func scaleF32FiniteAsm(dst, src []float32, shift, scale []float64) bool {
	dst, shift, scale = dst[:len(src)], shift[:len(src)], scale[:len(src)]
	return scaleF32FiniteAVX2(unsafe.SliceData(dst), unsafe.SliceData(src), unsafe.SliceData(shift), unsafe.SliceData(scale), len(src))
}
