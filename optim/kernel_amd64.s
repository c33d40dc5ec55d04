//go:build amd64 && !noasm

#include "textflag.h"

// AVX2 kernels for the element-wise loops of sgd.go, adam.go and finite.go.
//
// Each kernel mirrors its pure-Go loop operation for operation: the same
// VMULPS/VADDPS/VSUBPS/VDIVPS/VSQRTPS/VMINPS sequence as the MULSS/ADDSS/...
// the gc compiler emits for the Go expression, without FMA (gc does not
// fuse on GOAMD64=v1), and with the same first operand of every
// commutative operation on two data values, since that operand's NaN is the
// one an x86 operation propagates. The results are therefore bitwise those
// of the Go loops, NaN payloads included.
//
// Layout: the main loop takes 8 elements per iteration; the 1-7 left over
// are loaded and stored through VMASKMOVPS with the mask tailMask<>+32-4r,
// which neither reads nor writes past the slices.
//
// Finiteness of a result x is checked as x - x, which is +0 (all bits
// clear) for every finite x and NaN for ±Inf and NaN: the kernels OR it
// into Y15 and return whether Y15 is zero.

DATA tailMask<>+0(SB)/8, $-1
DATA tailMask<>+8(SB)/8, $-1
DATA tailMask<>+16(SB)/8, $-1
DATA tailMask<>+24(SB)/8, $-1
DATA tailMask<>+32(SB)/8, $0
DATA tailMask<>+40(SB)/8, $0
DATA tailMask<>+48(SB)/8, $0
DATA tailMask<>+56(SB)/8, $0
GLOBL tailMask<>(SB), RODATA|NOPTR, $64

DATA expBits<>+0(SB)/4, $0x7f800000
GLOBL expBits<>(SB), RODATA|NOPTR, $4
DATA expLow<>+0(SB)/4, $0x00800000
GLOBL expLow<>(SB), RODATA|NOPTR, $4
DATA signBit<>+0(SB)/4, $0x80000000
GLOBL signBit<>(SB), RODATA|NOPTR, $4
DATA one<>+0(SB)/4, $0x3f800000
GLOBL one<>(SB), RODATA|NOPTR, $4
DATA absMask<>+0(SB)/4, $0x7fffffff
GLOBL absMask<>(SB), RODATA|NOPTR, $4

// TAILMASK sets Y14 to the mask of the first r lanes (1 <= r <= 7); it
// clobbers r and BX.
#define TAILMASK(r) \
	LEAQ    tailMask<>+32(SB), BX; \
	SHLQ    $2, r;                 \
	SUBQ    r, BX;                 \
	VMOVDQU (BX), Y14

// FINITE ORs x - x into the accumulator Y15, through the temporary t.
#define FINITE(x, t) \
	VSUBPS x, x, t; \
	VORPS  t, Y15, Y15

// FINITETAIL is FINITE for the masked tail: lanes past the slice do not count.
#define FINITETAIL(x, t) \
	VSUBPS x, x, t;    \
	VANDPS Y14, t, t;  \
	VORPS  t, Y15, Y15

// RETFINITE stores whether Y15 is zero at ret and returns.
#define RETFINITE(ret) \
	VPTEST Y15, Y15; \
	SETEQ  ret;      \
	VZEROUPPER;      \
	RET

// func allFiniteAVX2(x *float32, n int) bool
//
// The integer test of nonFiniteBits: (bits & 0x7f800000) + 0x00800000 has
// its sign bit set exactly when the exponent is all ones (±Inf, NaN).
TEXT ·allFiniteAVX2(SB), NOSPLIT, $0-17
	MOVQ         x+0(FP), SI
	MOVQ         n+8(FP), CX
	VPBROADCASTD expBits<>(SB), Y12
	VPBROADCASTD expLow<>(SB), Y13
	VPXOR        Y0, Y0, Y0
	VPXOR        Y1, Y1, Y1
	VPXOR        Y2, Y2, Y2
	VPXOR        Y3, Y3, Y3
	XORQ         AX, AX
	SUBQ         $32, CX
	JLT          af8

af32:
	VPAND  (SI)(AX*4), Y12, Y4
	VPAND  32(SI)(AX*4), Y12, Y5
	VPAND  64(SI)(AX*4), Y12, Y6
	VPAND  96(SI)(AX*4), Y12, Y7
	VPADDD Y13, Y4, Y4
	VPADDD Y13, Y5, Y5
	VPADDD Y13, Y6, Y6
	VPADDD Y13, Y7, Y7
	VPOR   Y4, Y0, Y0
	VPOR   Y5, Y1, Y1
	VPOR   Y6, Y2, Y2
	VPOR   Y7, Y3, Y3
	ADDQ   $32, AX
	CMPQ   AX, CX
	JLE    af32

af8:
	ADDQ $24, CX // n-8
	CMPQ AX, CX
	JGT  aftail

af8loop:
	VPAND  (SI)(AX*4), Y12, Y4
	VPADDD Y13, Y4, Y4
	VPOR   Y4, Y0, Y0
	ADDQ   $8, AX
	CMPQ   AX, CX
	JLE    af8loop

aftail:
	ADDQ       $8, CX
	SUBQ       AX, CX
	JEQ        afdone
	TAILMASK(CX)
	VMASKMOVPS (SI)(AX*4), Y14, Y4
	VPAND      Y12, Y4, Y4
	VPADDD     Y13, Y4, Y4
	VPAND      Y14, Y4, Y4
	VPOR       Y4, Y0, Y0

afdone:
	VPOR      Y1, Y0, Y0
	VPOR      Y3, Y2, Y2
	VPOR      Y2, Y0, Y0
	VMOVMSKPS Y0, AX
	TESTL     AX, AX
	SETEQ     ret+16(FP)
	VZEROUPPER
	RET

// func addFiniteAVX2(dst, src *float32, n int) bool
//
// dst[i] += src[i]: ADDSS src, dst, dst the first operand.
TEXT ·addFiniteAVX2(SB), NOSPLIT, $0-25
	MOVQ  dst+0(FP), DI
	MOVQ  src+8(FP), SI
	MOVQ  n+16(FP), CX
	VPXOR Y15, Y15, Y15
	XORQ  AX, AX
	SUBQ  $16, CX
	JLT   ad8

ad16:
	VMOVUPS (DI)(AX*4), Y0
	VMOVUPS 32(DI)(AX*4), Y1
	VADDPS  (SI)(AX*4), Y0, Y0
	VADDPS  32(SI)(AX*4), Y1, Y1
	VMOVUPS Y0, (DI)(AX*4)
	VMOVUPS Y1, 32(DI)(AX*4)
	FINITE(Y0, Y2)
	FINITE(Y1, Y3)
	ADDQ    $16, AX
	CMPQ    AX, CX
	JLE     ad16

ad8:
	ADDQ $8, CX // n-8
	CMPQ AX, CX
	JGT  adtail
	VMOVUPS (DI)(AX*4), Y0
	VADDPS  (SI)(AX*4), Y0, Y0
	VMOVUPS Y0, (DI)(AX*4)
	FINITE(Y0, Y2)
	ADDQ    $8, AX

adtail:
	ADDQ       $8, CX
	SUBQ       AX, CX
	JEQ        addone
	TAILMASK(CX)
	VMASKMOVPS (DI)(AX*4), Y14, Y0
	VMASKMOVPS (SI)(AX*4), Y14, Y1
	VADDPS     Y1, Y0, Y0
	VMASKMOVPS Y0, Y14, (DI)(AX*4)
	FINITETAIL(Y0, Y2)

addone:
	RETFINITE(ret+24(FP))

// SGDPLAIN: p -= lr*((p*wd) + g) on Y0 = p, Y1 = g; Y8 = lr, Y9 = wd.
#define SGDPLAIN \
	VMULPS Y9, Y0, Y3; \
	VADDPS Y1, Y3, Y3; \
	VMULPS Y8, Y3, Y3; \
	VSUBPS Y3, Y0, Y0

// func sgdPlainAVX2(p, grad *float32, n int, lr, wd float32) bool
TEXT ·sgdPlainAVX2(SB), NOSPLIT, $0-33
	MOVQ         p+0(FP), DI
	MOVQ         grad+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSS lr+24(FP), Y8
	VBROADCASTSS wd+28(FP), Y9
	VPXOR        Y15, Y15, Y15
	XORQ         AX, AX
	SUBQ         $8, CX
	JLT          sptail

sploop:
	VMOVUPS (DI)(AX*4), Y0
	VMOVUPS (SI)(AX*4), Y1
	SGDPLAIN
	VMOVUPS Y0, (DI)(AX*4)
	FINITE(Y0, Y4)
	ADDQ    $8, AX
	CMPQ    AX, CX
	JLE     sploop

sptail:
	ADDQ       $8, CX
	SUBQ       AX, CX
	JEQ        spdone
	TAILMASK(CX)
	VMASKMOVPS (DI)(AX*4), Y14, Y0
	VMASKMOVPS (SI)(AX*4), Y14, Y1
	SGDPLAIN
	VMASKMOVPS Y0, Y14, (DI)(AX*4)
	FINITETAIL(Y0, Y4)

spdone:
	RETFINITE(ret+32(FP))

// SGDMOM on Y0 = p, Y1 = g, Y2 = b; Y8 = lr, Y9 = wd, Y10 = mom, Y11 = damp:
//
//	d = (p*wd) + g; b = (b*mom) + (d*damp); p -= b*lr
#define SGDMOM \
	VMULPS Y9, Y0, Y3;  \
	VADDPS Y1, Y3, Y3;  \
	VMULPS Y10, Y2, Y2; \
	VMULPS Y11, Y3, Y3; \
	VADDPS Y3, Y2, Y2;  \
	VMULPS Y8, Y2, Y4;  \
	VSUBPS Y4, Y0, Y0

// func sgdMomentumAVX2(p, grad, b *float32, n int, lr, wd, mom, damp float32) bool
TEXT ·sgdMomentumAVX2(SB), NOSPLIT, $0-49
	MOVQ         p+0(FP), DI
	MOVQ         grad+8(FP), SI
	MOVQ         b+16(FP), DX
	MOVQ         n+24(FP), CX
	VBROADCASTSS lr+32(FP), Y8
	VBROADCASTSS wd+36(FP), Y9
	VBROADCASTSS mom+40(FP), Y10
	VBROADCASTSS damp+44(FP), Y11
	VPXOR        Y15, Y15, Y15
	XORQ         AX, AX
	SUBQ         $8, CX
	JLT          smtail

smloop:
	VMOVUPS (DI)(AX*4), Y0
	VMOVUPS (SI)(AX*4), Y1
	VMOVUPS (DX)(AX*4), Y2
	SGDMOM
	VMOVUPS Y2, (DX)(AX*4)
	VMOVUPS Y0, (DI)(AX*4)
	FINITE(Y0, Y5)
	ADDQ    $8, AX
	CMPQ    AX, CX
	JLE     smloop

smtail:
	ADDQ       $8, CX
	SUBQ       AX, CX
	JEQ        smdone
	TAILMASK(CX)
	VMASKMOVPS (DI)(AX*4), Y14, Y0
	VMASKMOVPS (SI)(AX*4), Y14, Y1
	VMASKMOVPS (DX)(AX*4), Y14, Y2
	SGDMOM
	VMASKMOVPS Y2, Y14, (DX)(AX*4)
	VMASKMOVPS Y0, Y14, (DI)(AX*4)
	FINITETAIL(Y0, Y5)

smdone:
	RETFINITE(ret+48(FP))

// SGDNEST on Y0 = p, Y1 = g, Y2 = b; Y8 = lr, Y9 = wd, Y10 = mom,
// Y11 = damp, Y12 = bmom:
//
//	d = (p*wd) + g; b = (b*bmom) + (damp*d); p -= ((b*mom) + d)*lr
#define SGDNEST \
	VMULPS Y9, Y0, Y3;  \
	VADDPS Y1, Y3, Y3;  \
	VMULPS Y12, Y2, Y2; \
	VMULPS Y3, Y11, Y4; \
	VADDPS Y4, Y2, Y2;  \
	VMULPS Y10, Y2, Y4; \
	VADDPS Y3, Y4, Y4;  \
	VMULPS Y8, Y4, Y4;  \
	VSUBPS Y4, Y0, Y0

// func sgdNesterovAVX2(p, grad, b *float32, n int, lr, wd, mom, bmom, damp float32) bool
TEXT ·sgdNesterovAVX2(SB), NOSPLIT, $0-57
	MOVQ         p+0(FP), DI
	MOVQ         grad+8(FP), SI
	MOVQ         b+16(FP), DX
	MOVQ         n+24(FP), CX
	VBROADCASTSS lr+32(FP), Y8
	VBROADCASTSS wd+36(FP), Y9
	VBROADCASTSS mom+40(FP), Y10
	VBROADCASTSS bmom+44(FP), Y12
	VBROADCASTSS damp+48(FP), Y11
	VPXOR        Y15, Y15, Y15
	XORQ         AX, AX
	SUBQ         $8, CX
	JLT          sntail

snloop:
	VMOVUPS (DI)(AX*4), Y0
	VMOVUPS (SI)(AX*4), Y1
	VMOVUPS (DX)(AX*4), Y2
	SGDNEST
	VMOVUPS Y2, (DX)(AX*4)
	VMOVUPS Y0, (DI)(AX*4)
	FINITE(Y0, Y5)
	ADDQ    $8, AX
	CMPQ    AX, CX
	JLE     snloop

sntail:
	ADDQ       $8, CX
	SUBQ       AX, CX
	JEQ        sndone
	TAILMASK(CX)
	VMASKMOVPS (DI)(AX*4), Y14, Y0
	VMASKMOVPS (SI)(AX*4), Y14, Y1
	VMASKMOVPS (DX)(AX*4), Y14, Y2
	SGDNEST
	VMASKMOVPS Y2, Y14, (DX)(AX*4)
	VMASKMOVPS Y0, Y14, (DI)(AX*4)
	FINITETAIL(Y0, Y5)

sndone:
	RETFINITE(ret+56(FP))

// ADAMCONSTS loads adamHyper at R10 (see adam.go; offsets checked by
// TestAdamHyperLayout): Y6 = b1, Y7 = b11, Y8 = b2, Y9 = b21, Y10 = ss,
// Y11 = ibc2, Y12 = eps, Y13 = wd. pmul (offset 32) is broadcast where used.
#define ADAMCONSTS \
	VBROADCASTSS 0(R10), Y6;  \
	VBROADCASTSS 4(R10), Y7;  \
	VBROADCASTSS 8(R10), Y8;  \
	VBROADCASTSS 12(R10), Y9; \
	VBROADCASTSS 16(R10), Y10; \
	VBROADCASTSS 20(R10), Y11; \
	VBROADCASTSS 24(R10), Y12; \
	VBROADCASTSS 28(R10), Y13

// ADAMMOMENTS on Y0 = p, Y1 = g, Y2 = m, Y3 = v leaves the new m in Y2 and
// the new v in Y3 (and clobbers Y1, Y4):
//
//	d = (wd*p) + g; m = (b11*d) + (b1*m); v = ((d*d)*b21) + (b2*v)
#define ADAMMOMENTS \
	VMULPS Y0, Y13, Y4; \
	VADDPS Y1, Y4, Y4;  \
	VMULPS Y2, Y6, Y2;  \
	VMULPS Y4, Y7, Y1;  \
	VADDPS Y2, Y1, Y2;  \
	VMULPS Y4, Y4, Y4;  \
	VMULPS Y9, Y4, Y4;  \
	VMULPS Y3, Y8, Y3;  \
	VADDPS Y3, Y4, Y3

// ADAMUPDATE with the second moment (v, or AMSGrad's max) in r and m in Y2:
//
//	p = (pmul*p) - ((m / (eps + ibc2*sqrt(r))) * ss)
//
// It clobbers Y1 and Y4.
#define ADAMUPDATE(r) \
	VSQRTPS      r, Y4;       \
	VMULPS       Y4, Y11, Y4; \
	VADDPS       Y4, Y12, Y4; \
	VDIVPS       Y4, Y2, Y4;  \
	VMULPS       Y10, Y4, Y4; \
	VBROADCASTSS 32(R10), Y1; \
	VMULPS       Y0, Y1, Y0;  \
	VSUBPS       Y4, Y0, Y0

// func adamAVX2(p, grad, m, v *float32, n int, h *adamHyper) bool
TEXT ·adamAVX2(SB), NOSPLIT, $0-49
	MOVQ  p+0(FP), DI
	MOVQ  grad+8(FP), SI
	MOVQ  m+16(FP), DX
	MOVQ  v+24(FP), R8
	MOVQ  n+32(FP), CX
	MOVQ  h+40(FP), R10
	ADAMCONSTS
	VPXOR Y15, Y15, Y15
	XORQ  AX, AX
	SUBQ  $8, CX
	JLT   atail

aloop:
	VMOVUPS (DI)(AX*4), Y0
	VMOVUPS (SI)(AX*4), Y1
	VMOVUPS (DX)(AX*4), Y2
	VMOVUPS (R8)(AX*4), Y3
	ADAMMOMENTS
	VMOVUPS Y2, (DX)(AX*4)
	VMOVUPS Y3, (R8)(AX*4)
	ADAMUPDATE(Y3)
	VMOVUPS Y0, (DI)(AX*4)
	FINITE(Y0, Y5)
	ADDQ    $8, AX
	CMPQ    AX, CX
	JLE     aloop

atail:
	ADDQ       $8, CX
	SUBQ       AX, CX
	JEQ        adone
	TAILMASK(CX)
	VMASKMOVPS (DI)(AX*4), Y14, Y0
	VMASKMOVPS (SI)(AX*4), Y14, Y1
	VMASKMOVPS (DX)(AX*4), Y14, Y2
	VMASKMOVPS (R8)(AX*4), Y14, Y3
	ADAMMOMENTS
	VMASKMOVPS Y2, Y14, (DX)(AX*4)
	VMASKMOVPS Y3, Y14, (R8)(AX*4)
	ADAMUPDATE(Y3)
	VMASKMOVPS Y0, Y14, (DI)(AX*4)
	FINITETAIL(Y0, Y5)

adone:
	RETFINITE(ret+48(FP))

// AMSMAX sets Y5 = max(Y5, Y3) as gc lowers max(vmax, v) (clobbers Y1, Y4):
//
//	x, y = -vmax, -v; t1 = MIN(x, y); t2 = MIN(t1, x); Y5 = -(t1 | t2)
//
// where MIN(a, b) is a < b ? a : b, b when either is NaN (MINPS).
#define AMSMAX \
	VBROADCASTSS signBit<>(SB), Y1; \
	VXORPS       Y1, Y5, Y5;        \
	VXORPS       Y1, Y3, Y4;        \
	VMINPS       Y4, Y5, Y4;        \
	VMINPS       Y5, Y4, Y5;        \
	VORPS        Y4, Y5, Y5;        \
	VXORPS       Y1, Y5, Y5

// func adamAMSGradAVX2(p, grad, m, v, vmax *float32, n int, h *adamHyper) bool
TEXT ·adamAMSGradAVX2(SB), NOSPLIT, $0-57
	MOVQ  p+0(FP), DI
	MOVQ  grad+8(FP), SI
	MOVQ  m+16(FP), DX
	MOVQ  v+24(FP), R8
	MOVQ  vmax+32(FP), R9
	MOVQ  n+40(FP), CX
	MOVQ  h+48(FP), R10
	ADAMCONSTS
	VPXOR Y15, Y15, Y15
	XORQ  AX, AX
	SUBQ  $8, CX
	JLT   amtail

amloop:
	VMOVUPS (DI)(AX*4), Y0
	VMOVUPS (SI)(AX*4), Y1
	VMOVUPS (DX)(AX*4), Y2
	VMOVUPS (R8)(AX*4), Y3
	ADAMMOMENTS
	VMOVUPS Y2, (DX)(AX*4)
	VMOVUPS Y3, (R8)(AX*4)
	VMOVUPS (R9)(AX*4), Y5
	AMSMAX
	VMOVUPS Y5, (R9)(AX*4)
	ADAMUPDATE(Y5)
	VMOVUPS Y0, (DI)(AX*4)
	FINITE(Y0, Y5)
	ADDQ    $8, AX
	CMPQ    AX, CX
	JLE     amloop

amtail:
	ADDQ       $8, CX
	SUBQ       AX, CX
	JEQ        amdone
	TAILMASK(CX)
	VMASKMOVPS (DI)(AX*4), Y14, Y0
	VMASKMOVPS (SI)(AX*4), Y14, Y1
	VMASKMOVPS (DX)(AX*4), Y14, Y2
	VMASKMOVPS (R8)(AX*4), Y14, Y3
	ADAMMOMENTS
	VMASKMOVPS Y2, Y14, (DX)(AX*4)
	VMASKMOVPS Y3, Y14, (R8)(AX*4)
	VMASKMOVPS (R9)(AX*4), Y14, Y5
	AMSMAX
	VMASKMOVPS Y5, Y14, (R9)(AX*4)
	ADAMUPDATE(Y5)
	VMASKMOVPS Y0, Y14, (DI)(AX*4)
	FINITETAIL(Y0, Y5)

amdone:
	RETFINITE(ret+56(FP))

// CLIPVALUE sets Y0 = min(max(Y0, -hi), hi) for Y8 = hi as gc lowers the
// two builtins (clobbers Y1-Y3, Y9): max(x, lo) = -MIN2(-x, -lo), -lo = hi,
// then MIN2(m, hi), where MIN2(a, b) = MIN(MIN(a, b), a) | MIN(a, b) and
// MIN(a, b) is a < b ? a : b, b when either is NaN (MINPS).
#define CLIPVALUE \
	VBROADCASTSS signBit<>(SB), Y9; \
	VXORPS       Y9, Y0, Y1;        \
	VMINPS       Y8, Y1, Y2;        \
	VMINPS       Y1, Y2, Y3;        \
	VORPS        Y2, Y3, Y3;        \
	VXORPS       Y9, Y3, Y3;        \
	VMINPS       Y8, Y3, Y2;        \
	VMINPS       Y3, Y2, Y1;        \
	VORPS        Y2, Y1, Y0

// AVERAGE sets Y0 = avg + ((p - avg) * w) for Y0 = avg, Y1 = p, Y8 = w.
#define AVERAGE \
	VSUBPS Y0, Y1, Y2; \
	VMULPS Y8, Y2, Y2; \
	VADDPS Y2, Y0, Y0

// ADAGRAD on Y0 = p, Y1 = g, Y2 = s; Y8 = clr, Y9 = wd, Y10 = eps:
//
//	d = g + wd*p; s = s + d*d; p -= clr * (d / (sqrt(s) + eps))
#define ADAGRAD \
	VMULPS  Y0, Y9, Y3;  \
	VADDPS  Y3, Y1, Y3;  \
	VMULPS  Y3, Y3, Y4;  \
	VADDPS  Y4, Y2, Y2;  \
	VSQRTPS Y2, Y4;      \
	VADDPS  Y10, Y4, Y4; \
	VDIVPS  Y4, Y3, Y4;  \
	VMULPS  Y4, Y8, Y4;  \
	VSUBPS  Y4, Y0, Y0

// The RMSprop kernels work on Y0 = p, Y1 = g, Y2 = v, Y5 = b, Y6 = ga with
// rmsHyper (rmsprop.go; offsets checked by TestRMSHyperLayout) in Y8 = lr,
// Y9 = a, Y10 = a1, Y11 = eps, Y12 = wd, Y13 = mom.
//
// RMSD: d = g + wd*p in Y3.
#define RMSD \
	VMULPS Y0, Y12, Y3; \
	VADDPS Y3, Y1, Y3

// RMSV: v = a*v + a1*(d*d).
#define RMSV \
	VMULPS Y2, Y9, Y2;  \
	VMULPS Y3, Y3, Y4;  \
	VMULPS Y4, Y10, Y4; \
	VADDPS Y4, Y2, Y2

// RMSCENTER: ga = a*ga + a1*d; Y1 = v - ga*ga.
#define RMSCENTER \
	VMULPS Y6, Y9, Y6;  \
	VMULPS Y3, Y10, Y4; \
	VADDPS Y4, Y6, Y6;  \
	VMULPS Y6, Y6, Y4;  \
	VSUBPS Y4, Y2, Y1

// RMSQ: Y4 = d / (sqrt(r) + eps).
#define RMSQ(r) \
	VSQRTPS r, Y4;       \
	VADDPS  Y11, Y4, Y4; \
	VDIVPS  Y4, Y3, Y4

// RMSUPD: p -= lr * Y4.
#define RMSUPD \
	VMULPS Y4, Y8, Y4; \
	VSUBPS Y4, Y0, Y0

// RMSMOMENTUM: b = mom*b + Y4; p -= lr * b.
#define RMSMOMENTUM \
	VMULPS Y5, Y13, Y5; \
	VADDPS Y4, Y5, Y5;  \
	VMULPS Y5, Y8, Y4;  \
	VSUBPS Y4, Y0, Y0

// func scaleAVX2(x *float32, n int, c float32) bool
TEXT ·scaleAVX2(SB), NOSPLIT, $0-25
	MOVQ x+0(FP), DI
	MOVQ n+8(FP), CX
	VBROADCASTSS c+16(FP), Y8
	VPXOR Y15, Y15, Y15
	XORQ AX, AX
	SUBQ $8, CX
	JLT sctail

scloop:
	VMOVUPS (DI)(AX*4), Y0
	VMULPS Y8, Y0, Y0
	VMOVUPS Y0, (DI)(AX*4)
	FINITE(Y0, Y1)
	ADDQ $8, AX
	CMPQ AX, CX
	JLE scloop

sctail:
	ADDQ $8, CX
	SUBQ AX, CX
	JEQ scdone
	TAILMASK(CX)
	VMASKMOVPS (DI)(AX*4), Y14, Y0
	VMULPS Y8, Y0, Y0
	VMASKMOVPS Y0, Y14, (DI)(AX*4)
	FINITETAIL(Y0, Y1)

scdone:
	RETFINITE(ret+24(FP))

// func clipValueAVX2(x *float32, n int, hi float32) bool
TEXT ·clipValueAVX2(SB), NOSPLIT, $0-25
	MOVQ x+0(FP), DI
	MOVQ n+8(FP), CX
	VBROADCASTSS hi+16(FP), Y8
	VPXOR Y15, Y15, Y15
	XORQ AX, AX
	SUBQ $8, CX
	JLT cvtail

cvloop:
	VMOVUPS (DI)(AX*4), Y0
	CLIPVALUE
	VMOVUPS Y0, (DI)(AX*4)
	FINITE(Y0, Y1)
	ADDQ $8, AX
	CMPQ AX, CX
	JLE cvloop

cvtail:
	ADDQ $8, CX
	SUBQ AX, CX
	JEQ cvdone
	TAILMASK(CX)
	VMASKMOVPS (DI)(AX*4), Y14, Y0
	CLIPVALUE
	VMASKMOVPS Y0, Y14, (DI)(AX*4)
	FINITETAIL(Y0, Y1)

cvdone:
	RETFINITE(ret+24(FP))

// func averageAVX2(avg, p *float32, n int, w float32) bool
TEXT ·averageAVX2(SB), NOSPLIT, $0-33
	MOVQ avg+0(FP), DI
	MOVQ p+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS w+24(FP), Y8
	VPXOR Y15, Y15, Y15
	XORQ AX, AX
	SUBQ $8, CX
	JLT avtail

avloop:
	VMOVUPS (DI)(AX*4), Y0
	VMOVUPS (SI)(AX*4), Y1
	AVERAGE
	VMOVUPS Y0, (DI)(AX*4)
	FINITE(Y0, Y2)
	ADDQ $8, AX
	CMPQ AX, CX
	JLE avloop

avtail:
	ADDQ $8, CX
	SUBQ AX, CX
	JEQ avdone
	TAILMASK(CX)
	VMASKMOVPS (DI)(AX*4), Y14, Y0
	VMASKMOVPS (SI)(AX*4), Y14, Y1
	AVERAGE
	VMASKMOVPS Y0, Y14, (DI)(AX*4)
	FINITETAIL(Y0, Y2)

avdone:
	RETFINITE(ret+32(FP))

// func adagradAVX2(p, grad, s *float32, n int, clr, wd, eps float32) bool
TEXT ·adagradAVX2(SB), NOSPLIT, $0-49
	MOVQ p+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ s+16(FP), DX
	MOVQ n+24(FP), CX
	VBROADCASTSS clr+32(FP), Y8
	VBROADCASTSS wd+36(FP), Y9
	VBROADCASTSS eps+40(FP), Y10
	VPXOR Y15, Y15, Y15
	XORQ AX, AX
	SUBQ $8, CX
	JLT agtail

agloop:
	VMOVUPS (DI)(AX*4), Y0
	VMOVUPS (SI)(AX*4), Y1
	VMOVUPS (DX)(AX*4), Y2
	ADAGRAD
	VMOVUPS Y2, (DX)(AX*4)
	VMOVUPS Y0, (DI)(AX*4)
	FINITE(Y0, Y5)
	ADDQ $8, AX
	CMPQ AX, CX
	JLE agloop

agtail:
	ADDQ $8, CX
	SUBQ AX, CX
	JEQ agdone
	TAILMASK(CX)
	VMASKMOVPS (DI)(AX*4), Y14, Y0
	VMASKMOVPS (SI)(AX*4), Y14, Y1
	VMASKMOVPS (DX)(AX*4), Y14, Y2
	ADAGRAD
	VMASKMOVPS Y2, Y14, (DX)(AX*4)
	VMASKMOVPS Y0, Y14, (DI)(AX*4)
	FINITETAIL(Y0, Y5)

agdone:
	RETFINITE(ret+48(FP))

// func rmsPlainAVX2(p, grad, v *float32, n int, h *rmsHyper) bool
TEXT ·rmsPlainAVX2(SB), NOSPLIT, $0-41
	MOVQ p+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ v+16(FP), DX
	MOVQ n+24(FP), CX
	MOVQ h+32(FP), R10
	VBROADCASTSS 0(R10), Y8
	VBROADCASTSS 4(R10), Y9
	VBROADCASTSS 8(R10), Y10
	VBROADCASTSS 12(R10), Y11
	VBROADCASTSS 16(R10), Y12
	VBROADCASTSS 20(R10), Y13
	VPXOR Y15, Y15, Y15
	XORQ AX, AX
	SUBQ $8, CX
	JLT rptail

rploop:
	VMOVUPS (DI)(AX*4), Y0
	VMOVUPS (SI)(AX*4), Y1
	VMOVUPS (DX)(AX*4), Y2
	RMSD; RMSV; RMSQ(Y2); RMSUPD
	VMOVUPS Y2, (DX)(AX*4)
	VMOVUPS Y0, (DI)(AX*4)
	FINITE(Y0, Y7)
	ADDQ $8, AX
	CMPQ AX, CX
	JLE rploop

rptail:
	ADDQ $8, CX
	SUBQ AX, CX
	JEQ rpdone
	TAILMASK(CX)
	VMASKMOVPS (DI)(AX*4), Y14, Y0
	VMASKMOVPS (SI)(AX*4), Y14, Y1
	VMASKMOVPS (DX)(AX*4), Y14, Y2
	RMSD; RMSV; RMSQ(Y2); RMSUPD
	VMASKMOVPS Y2, Y14, (DX)(AX*4)
	VMASKMOVPS Y0, Y14, (DI)(AX*4)
	FINITETAIL(Y0, Y7)

rpdone:
	RETFINITE(ret+40(FP))

// func rmsMomentumAVX2(p, grad, v, b *float32, n int, h *rmsHyper) bool
TEXT ·rmsMomentumAVX2(SB), NOSPLIT, $0-49
	MOVQ p+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ v+16(FP), DX
	MOVQ b+24(FP), R8
	MOVQ n+32(FP), CX
	MOVQ h+40(FP), R10
	VBROADCASTSS 0(R10), Y8
	VBROADCASTSS 4(R10), Y9
	VBROADCASTSS 8(R10), Y10
	VBROADCASTSS 12(R10), Y11
	VBROADCASTSS 16(R10), Y12
	VBROADCASTSS 20(R10), Y13
	VPXOR Y15, Y15, Y15
	XORQ AX, AX
	SUBQ $8, CX
	JLT rmtail

rmloop:
	VMOVUPS (DI)(AX*4), Y0
	VMOVUPS (SI)(AX*4), Y1
	VMOVUPS (DX)(AX*4), Y2
	VMOVUPS (R8)(AX*4), Y5
	RMSD; RMSV; RMSQ(Y2); RMSMOMENTUM
	VMOVUPS Y2, (DX)(AX*4)
	VMOVUPS Y5, (R8)(AX*4)
	VMOVUPS Y0, (DI)(AX*4)
	FINITE(Y0, Y7)
	ADDQ $8, AX
	CMPQ AX, CX
	JLE rmloop

rmtail:
	ADDQ $8, CX
	SUBQ AX, CX
	JEQ rmdone
	TAILMASK(CX)
	VMASKMOVPS (DI)(AX*4), Y14, Y0
	VMASKMOVPS (SI)(AX*4), Y14, Y1
	VMASKMOVPS (DX)(AX*4), Y14, Y2
	VMASKMOVPS (R8)(AX*4), Y14, Y5
	RMSD; RMSV; RMSQ(Y2); RMSMOMENTUM
	VMASKMOVPS Y2, Y14, (DX)(AX*4)
	VMASKMOVPS Y5, Y14, (R8)(AX*4)
	VMASKMOVPS Y0, Y14, (DI)(AX*4)
	FINITETAIL(Y0, Y7)

rmdone:
	RETFINITE(ret+48(FP))

// func rmsCenteredAVX2(p, grad, v, ga *float32, n int, h *rmsHyper) bool
TEXT ·rmsCenteredAVX2(SB), NOSPLIT, $0-49
	MOVQ p+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ v+16(FP), DX
	MOVQ ga+24(FP), R8
	MOVQ n+32(FP), CX
	MOVQ h+40(FP), R10
	VBROADCASTSS 0(R10), Y8
	VBROADCASTSS 4(R10), Y9
	VBROADCASTSS 8(R10), Y10
	VBROADCASTSS 12(R10), Y11
	VBROADCASTSS 16(R10), Y12
	VBROADCASTSS 20(R10), Y13
	VPXOR Y15, Y15, Y15
	XORQ AX, AX
	SUBQ $8, CX
	JLT rctail

rcloop:
	VMOVUPS (DI)(AX*4), Y0
	VMOVUPS (SI)(AX*4), Y1
	VMOVUPS (DX)(AX*4), Y2
	VMOVUPS (R8)(AX*4), Y6
	RMSD; RMSV; RMSCENTER; RMSQ(Y1); RMSUPD
	VMOVUPS Y2, (DX)(AX*4)
	VMOVUPS Y6, (R8)(AX*4)
	VMOVUPS Y0, (DI)(AX*4)
	FINITE(Y0, Y7)
	ADDQ $8, AX
	CMPQ AX, CX
	JLE rcloop

rctail:
	ADDQ $8, CX
	SUBQ AX, CX
	JEQ rcdone
	TAILMASK(CX)
	VMASKMOVPS (DI)(AX*4), Y14, Y0
	VMASKMOVPS (SI)(AX*4), Y14, Y1
	VMASKMOVPS (DX)(AX*4), Y14, Y2
	VMASKMOVPS (R8)(AX*4), Y14, Y6
	RMSD; RMSV; RMSCENTER; RMSQ(Y1); RMSUPD
	VMASKMOVPS Y2, Y14, (DX)(AX*4)
	VMASKMOVPS Y6, Y14, (R8)(AX*4)
	VMASKMOVPS Y0, Y14, (DI)(AX*4)
	FINITETAIL(Y0, Y7)

rcdone:
	RETFINITE(ret+48(FP))

// func rmsCenteredMomentumAVX2(p, grad, v, ga, b *float32, n int, h *rmsHyper) bool
TEXT ·rmsCenteredMomentumAVX2(SB), NOSPLIT, $0-57
	MOVQ p+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ v+16(FP), DX
	MOVQ ga+24(FP), R8
	MOVQ b+32(FP), R9
	MOVQ n+40(FP), CX
	MOVQ h+48(FP), R10
	VBROADCASTSS 0(R10), Y8
	VBROADCASTSS 4(R10), Y9
	VBROADCASTSS 8(R10), Y10
	VBROADCASTSS 12(R10), Y11
	VBROADCASTSS 16(R10), Y12
	VBROADCASTSS 20(R10), Y13
	VPXOR Y15, Y15, Y15
	XORQ AX, AX
	SUBQ $8, CX
	JLT rcmtail

rcmloop:
	VMOVUPS (DI)(AX*4), Y0
	VMOVUPS (SI)(AX*4), Y1
	VMOVUPS (DX)(AX*4), Y2
	VMOVUPS (R8)(AX*4), Y6
	VMOVUPS (R9)(AX*4), Y5
	RMSD; RMSV; RMSCENTER; RMSQ(Y1); RMSMOMENTUM
	VMOVUPS Y2, (DX)(AX*4)
	VMOVUPS Y6, (R8)(AX*4)
	VMOVUPS Y5, (R9)(AX*4)
	VMOVUPS Y0, (DI)(AX*4)
	FINITE(Y0, Y7)
	ADDQ $8, AX
	CMPQ AX, CX
	JLE rcmloop

rcmtail:
	ADDQ $8, CX
	SUBQ AX, CX
	JEQ rcmdone
	TAILMASK(CX)
	VMASKMOVPS (DI)(AX*4), Y14, Y0
	VMASKMOVPS (SI)(AX*4), Y14, Y1
	VMASKMOVPS (DX)(AX*4), Y14, Y2
	VMASKMOVPS (R8)(AX*4), Y14, Y6
	VMASKMOVPS (R9)(AX*4), Y14, Y5
	RMSD; RMSV; RMSCENTER; RMSQ(Y1); RMSMOMENTUM
	VMASKMOVPS Y2, Y14, (DX)(AX*4)
	VMASKMOVPS Y6, Y14, (R8)(AX*4)
	VMASKMOVPS Y5, Y14, (R9)(AX*4)
	VMASKMOVPS Y0, Y14, (DI)(AX*4)
	FINITETAIL(Y0, Y7)

rcmdone:
	RETFINITE(ret+56(FP))

// func sumSquaresAVX2(x *float32, n int, s *[4]float64)
//
// For i < n (a multiple of 4), s[i%4] += float64(x[i])*float64(x[i]), in
// index order: GradNorm's four interleaved sums, one per float64 lane (the
// products of float32 values are exact in float64; the sums round as
// ADDSD's do).
TEXT ·sumSquaresAVX2(SB), NOSPLIT, $0-24
	MOVQ    x+0(FP), SI
	MOVQ    n+8(FP), CX
	MOVQ    s+16(FP), DX
	VMOVUPD (DX), Y0
	XORQ    AX, AX
	CMPQ    AX, CX
	JGE     ssdone

ssloop:
	VCVTPS2PD (SI)(AX*4), Y1
	VMULPD    Y1, Y1, Y1
	VADDPD    Y1, Y0, Y0
	ADDQ      $4, AX
	CMPQ      AX, CX
	JLT       ssloop

ssdone:
	VMOVUPD Y0, (DX)
	VZEROUPPER
	RET

// func dotDecayedAVX2(grad, p, u *float32, n int, wd float32, s *[4]float64)
//
// For i < n (a multiple of 4), s[i%4] += float64(g[i] + wd*p[i]) *
// float64(u[i]), in index order: the hypergradient rules' dot product.
TEXT ·dotDecayedAVX2(SB), NOSPLIT, $0-48
	MOVQ         grad+0(FP), SI
	MOVQ         p+8(FP), DI
	MOVQ         u+16(FP), R8
	MOVQ         n+24(FP), CX
	VBROADCASTSS wd+32(FP), X8
	MOVQ         s+40(FP), DX
	VMOVUPD      (DX), Y0
	XORQ         AX, AX
	CMPQ         AX, CX
	JGE          dddone

ddloop:
	VMULPS    (DI)(AX*4), X8, X1
	VMOVUPS   (SI)(AX*4), X2
	VADDPS    X1, X2, X1
	VCVTPS2PD X1, Y1
	VCVTPS2PD (R8)(AX*4), Y2
	VMULPD    Y2, Y1, Y1
	VADDPD    Y1, Y0, Y0
	ADDQ      $4, AX
	CMPQ      AX, CX
	JLT       ddloop

dddone:
	VMOVUPD Y0, (DX)
	VZEROUPPER
	RET

// NADAM on Y0 = p, Y1 = g, Y2 = m, Y3 = v with nadamHyper at R10 (nadam.go;
// offsets checked by TestNAdamHyperLayout) in Y6 = b1, Y7 = b11, Y8 = b2,
// Y9 = b21, Y11 = ibc2, Y12 = eps, Y13 = wd, Y10 = cg (cm broadcast here):
//
//	d = g + wd*p; m = b1*m + b11*d; v = b2*v + b21*(d*d)
//	inv = 1 / (sqrt(v)*ibc2 + eps); p = (p - cg*(d*inv)) - cm*(m*inv)
#define NADAM \
	VMULPS       Y0, Y13, Y4;   \
	VADDPS       Y1, Y4, Y4;    \
	VMULPS       Y2, Y6, Y2;    \
	VMULPS       Y4, Y7, Y1;    \
	VADDPS       Y2, Y1, Y2;    \
	VMULPS       Y4, Y4, Y5;    \
	VMULPS       Y9, Y5, Y5;    \
	VMULPS       Y3, Y8, Y3;    \
	VADDPS       Y3, Y5, Y3;    \
	VSQRTPS      Y3, Y5;        \
	VMULPS       Y11, Y5, Y5;   \
	VADDPS       Y12, Y5, Y5;   \
	VBROADCASTSS one<>(SB), Y1; \
	VDIVPS       Y5, Y1, Y5;    \
	VMULPS       Y5, Y4, Y4;    \
	VMULPS       Y4, Y10, Y4;   \
	VSUBPS       Y4, Y0, Y0;    \
	VMULPS       Y5, Y2, Y5;    \
	VBROADCASTSS 32(R10), Y1;   \
	VMULPS       Y5, Y1, Y5;    \
	VSUBPS       Y5, Y0, Y0

// RADAMRECT after ADAMMOMENTS: p -= ss * (m / (sqrt(v) + eps)).
#define RADAMRECT \
	VSQRTPS Y3, Y4;      \
	VADDPS  Y12, Y4, Y4; \
	VDIVPS  Y4, Y2, Y4;  \
	VMULPS  Y4, Y10, Y4; \
	VSUBPS  Y4, Y0, Y0

// RADAMPLAIN after ADAMMOMENTS: p -= ss * m.
#define RADAMPLAIN \
	VMULPS Y2, Y10, Y4; \
	VSUBPS Y4, Y0, Y0

// ADAMAX on Y0 = p, Y1 = g, Y2 = m, Y3 = u with ADAMCONSTS:
//
//	d = g + wd*p; m = b1*m + b11*d; u = max(b2*u, |d| + eps); p -= ss*(m/u)
//
// the max as AMSMAX lowers it.
#define ADAMAX \
	VMULPS       Y0, Y13, Y4;       \
	VADDPS       Y1, Y4, Y4;        \
	VMULPS       Y2, Y6, Y2;        \
	VMULPS       Y4, Y7, Y1;        \
	VADDPS       Y2, Y1, Y2;        \
	VMULPS       Y3, Y8, Y3;        \
	VBROADCASTSS signBit<>(SB), Y1; \
	VANDNPS      Y4, Y1, Y4;        \
	VADDPS       Y12, Y4, Y4;       \
	VXORPS       Y1, Y3, Y3;        \
	VXORPS       Y1, Y4, Y4;        \
	VMINPS       Y4, Y3, Y5;        \
	VMINPS       Y3, Y5, Y3;        \
	VORPS        Y5, Y3, Y3;        \
	VXORPS       Y1, Y3, Y3;        \
	VDIVPS       Y3, Y2, Y4;        \
	VMULPS       Y4, Y10, Y4;       \
	VSUBPS       Y4, Y0, Y0

// ADAMHD after ADAMMOMENTS (ss = 1/(1-β1^t), pmul = α):
//
//	u = (m*ss) / (sqrt(v)*ibc2 + eps) in Y4; p -= pmul*u
#define ADAMHD \
	VSQRTPS      Y3, Y4;       \
	VMULPS       Y11, Y4, Y4;  \
	VADDPS       Y12, Y4, Y4;  \
	VMULPS       Y10, Y2, Y1;  \
	VDIVPS       Y4, Y1, Y4;   \
	VBROADCASTSS 32(R10), Y1;  \
	VMULPS       Y4, Y1, Y5;   \
	VSUBPS       Y5, Y0, Y0

// SGDHD on Y0 = p, Y1 = g; Y8 = alpha, Y9 = wd: d = g + wd*p (Y3, stored
// as prev); p -= alpha*d.
#define SGDHD \
	VMULPS Y0, Y9, Y3; \
	VADDPS Y3, Y1, Y3; \
	VMULPS Y3, Y8, Y4; \
	VSUBPS Y4, Y0, Y0

// ADADELTA on Y0 = p, Y1 = g, Y2 = v, Y3 = u; Y8 = lr, Y9 = rho,
// Y10 = rho1, Y11 = eps, Y12 = wd:
//
//	d = g + wd*p; v = rho*v + rho1*(d*d)
//	delta = sqrt(u+eps) / sqrt(v+eps) * d; u = rho*u + rho1*(delta*delta)
//	p -= lr*delta
#define ADADELTA \
	VMULPS  Y0, Y12, Y4; \
	VADDPS  Y4, Y1, Y4;  \
	VMULPS  Y2, Y9, Y2;  \
	VMULPS  Y4, Y4, Y5;  \
	VMULPS  Y5, Y10, Y5; \
	VADDPS  Y5, Y2, Y2;  \
	VADDPS  Y11, Y3, Y5; \
	VSQRTPS Y5, Y5;      \
	VADDPS  Y11, Y2, Y1; \
	VSQRTPS Y1, Y1;      \
	VDIVPS  Y1, Y5, Y5;  \
	VMULPS  Y4, Y5, Y5;  \
	VMULPS  Y3, Y9, Y3;  \
	VMULPS  Y5, Y5, Y1;  \
	VMULPS  Y1, Y10, Y1; \
	VADDPS  Y1, Y3, Y3;  \
	VMULPS  Y5, Y8, Y5;  \
	VSUBPS  Y5, Y0, Y0

// ASGDP on Y0 = p, Y1 = g; Y8 = decay, Y9 = eta, Y10 = wd:
// p = p*decay - eta*(g + wd*p).
#define ASGDP \
	VMULPS Y0, Y10, Y3; \
	VADDPS Y3, Y1, Y3;  \
	VMULPS Y3, Y9, Y3;  \
	VMULPS Y8, Y0, Y0;  \
	VSUBPS Y3, Y0, Y0

// ASGDAVG: ax (Y2) += mu*(p - ax), Y11 = mu.
#define ASGDAVG \
	VSUBPS Y2, Y0, Y4;  \
	VMULPS Y4, Y11, Y4; \
	VADDPS Y4, Y2, Y2

// func nadamAVX2(p, grad, m, v *float32, n int, h *nadamHyper) bool
TEXT ·nadamAVX2(SB), NOSPLIT, $0-49
	MOVQ p+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ m+16(FP), DX
	MOVQ v+24(FP), R8
	MOVQ n+32(FP), CX
	MOVQ h+40(FP), R10
	VBROADCASTSS 0(R10), Y6
	VBROADCASTSS 4(R10), Y7
	VBROADCASTSS 8(R10), Y8
	VBROADCASTSS 12(R10), Y9
	VBROADCASTSS 16(R10), Y11
	VBROADCASTSS 20(R10), Y12
	VBROADCASTSS 24(R10), Y13
	VBROADCASTSS 28(R10), Y10
	VPXOR Y15, Y15, Y15
	XORQ AX, AX
	SUBQ $8, CX
	JLT natail

naloop:
	VMOVUPS (DI)(AX*4), Y0
	VMOVUPS (SI)(AX*4), Y1
	VMOVUPS (DX)(AX*4), Y2
	VMOVUPS (R8)(AX*4), Y3
	NADAM
	VMOVUPS Y2, (DX)(AX*4)
	VMOVUPS Y3, (R8)(AX*4)
	VMOVUPS Y0, (DI)(AX*4)
	FINITE(Y0, Y5)
	ADDQ $8, AX
	CMPQ AX, CX
	JLE naloop

natail:
	ADDQ $8, CX
	SUBQ AX, CX
	JEQ nadone
	TAILMASK(CX)
	VMASKMOVPS (DI)(AX*4), Y14, Y0
	VMASKMOVPS (SI)(AX*4), Y14, Y1
	VMASKMOVPS (DX)(AX*4), Y14, Y2
	VMASKMOVPS (R8)(AX*4), Y14, Y3
	NADAM
	VMASKMOVPS Y2, Y14, (DX)(AX*4)
	VMASKMOVPS Y3, Y14, (R8)(AX*4)
	VMASKMOVPS Y0, Y14, (DI)(AX*4)
	FINITETAIL(Y0, Y5)

nadone:
	RETFINITE(ret+48(FP))

// func radamRectAVX2(p, grad, m, v *float32, n int, h *adamHyper) bool
TEXT ·radamRectAVX2(SB), NOSPLIT, $0-49
	MOVQ p+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ m+16(FP), DX
	MOVQ v+24(FP), R8
	MOVQ n+32(FP), CX
	MOVQ h+40(FP), R10
	VBROADCASTSS 0(R10), Y6
	VBROADCASTSS 4(R10), Y7
	VBROADCASTSS 8(R10), Y8
	VBROADCASTSS 12(R10), Y9
	VBROADCASTSS 16(R10), Y10
	VBROADCASTSS 20(R10), Y11
	VBROADCASTSS 24(R10), Y12
	VBROADCASTSS 28(R10), Y13
	VPXOR Y15, Y15, Y15
	XORQ AX, AX
	SUBQ $8, CX
	JLT rrtail

rrloop:
	VMOVUPS (DI)(AX*4), Y0
	VMOVUPS (SI)(AX*4), Y1
	VMOVUPS (DX)(AX*4), Y2
	VMOVUPS (R8)(AX*4), Y3
	ADAMMOMENTS; RADAMRECT
	VMOVUPS Y2, (DX)(AX*4)
	VMOVUPS Y3, (R8)(AX*4)
	VMOVUPS Y0, (DI)(AX*4)
	FINITE(Y0, Y5)
	ADDQ $8, AX
	CMPQ AX, CX
	JLE rrloop

rrtail:
	ADDQ $8, CX
	SUBQ AX, CX
	JEQ rrdone
	TAILMASK(CX)
	VMASKMOVPS (DI)(AX*4), Y14, Y0
	VMASKMOVPS (SI)(AX*4), Y14, Y1
	VMASKMOVPS (DX)(AX*4), Y14, Y2
	VMASKMOVPS (R8)(AX*4), Y14, Y3
	ADAMMOMENTS; RADAMRECT
	VMASKMOVPS Y2, Y14, (DX)(AX*4)
	VMASKMOVPS Y3, Y14, (R8)(AX*4)
	VMASKMOVPS Y0, Y14, (DI)(AX*4)
	FINITETAIL(Y0, Y5)

rrdone:
	RETFINITE(ret+48(FP))

// func radamPlainAVX2(p, grad, m, v *float32, n int, h *adamHyper) bool
TEXT ·radamPlainAVX2(SB), NOSPLIT, $0-49
	MOVQ p+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ m+16(FP), DX
	MOVQ v+24(FP), R8
	MOVQ n+32(FP), CX
	MOVQ h+40(FP), R10
	VBROADCASTSS 0(R10), Y6
	VBROADCASTSS 4(R10), Y7
	VBROADCASTSS 8(R10), Y8
	VBROADCASTSS 12(R10), Y9
	VBROADCASTSS 16(R10), Y10
	VBROADCASTSS 20(R10), Y11
	VBROADCASTSS 24(R10), Y12
	VBROADCASTSS 28(R10), Y13
	VPXOR Y15, Y15, Y15
	XORQ AX, AX
	SUBQ $8, CX
	JLT rpltail

rplloop:
	VMOVUPS (DI)(AX*4), Y0
	VMOVUPS (SI)(AX*4), Y1
	VMOVUPS (DX)(AX*4), Y2
	VMOVUPS (R8)(AX*4), Y3
	ADAMMOMENTS; RADAMPLAIN
	VMOVUPS Y2, (DX)(AX*4)
	VMOVUPS Y3, (R8)(AX*4)
	VMOVUPS Y0, (DI)(AX*4)
	FINITE(Y0, Y5)
	ADDQ $8, AX
	CMPQ AX, CX
	JLE rplloop

rpltail:
	ADDQ $8, CX
	SUBQ AX, CX
	JEQ rpldone
	TAILMASK(CX)
	VMASKMOVPS (DI)(AX*4), Y14, Y0
	VMASKMOVPS (SI)(AX*4), Y14, Y1
	VMASKMOVPS (DX)(AX*4), Y14, Y2
	VMASKMOVPS (R8)(AX*4), Y14, Y3
	ADAMMOMENTS; RADAMPLAIN
	VMASKMOVPS Y2, Y14, (DX)(AX*4)
	VMASKMOVPS Y3, Y14, (R8)(AX*4)
	VMASKMOVPS Y0, Y14, (DI)(AX*4)
	FINITETAIL(Y0, Y5)

rpldone:
	RETFINITE(ret+48(FP))

// func adamaxAVX2(p, grad, m, u *float32, n int, h *adamHyper) bool
TEXT ·adamaxAVX2(SB), NOSPLIT, $0-49
	MOVQ p+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ m+16(FP), DX
	MOVQ u+24(FP), R8
	MOVQ n+32(FP), CX
	MOVQ h+40(FP), R10
	VBROADCASTSS 0(R10), Y6
	VBROADCASTSS 4(R10), Y7
	VBROADCASTSS 8(R10), Y8
	VBROADCASTSS 12(R10), Y9
	VBROADCASTSS 16(R10), Y10
	VBROADCASTSS 20(R10), Y11
	VBROADCASTSS 24(R10), Y12
	VBROADCASTSS 28(R10), Y13
	VPXOR Y15, Y15, Y15
	XORQ AX, AX
	SUBQ $8, CX
	JLT axtail

axloop:
	VMOVUPS (DI)(AX*4), Y0
	VMOVUPS (SI)(AX*4), Y1
	VMOVUPS (DX)(AX*4), Y2
	VMOVUPS (R8)(AX*4), Y3
	ADAMAX
	VMOVUPS Y2, (DX)(AX*4)
	VMOVUPS Y3, (R8)(AX*4)
	VMOVUPS Y0, (DI)(AX*4)
	FINITE(Y0, Y5)
	ADDQ $8, AX
	CMPQ AX, CX
	JLE axloop

axtail:
	ADDQ $8, CX
	SUBQ AX, CX
	JEQ axdone
	TAILMASK(CX)
	VMASKMOVPS (DI)(AX*4), Y14, Y0
	VMASKMOVPS (SI)(AX*4), Y14, Y1
	VMASKMOVPS (DX)(AX*4), Y14, Y2
	VMASKMOVPS (R8)(AX*4), Y14, Y3
	ADAMAX
	VMASKMOVPS Y2, Y14, (DX)(AX*4)
	VMASKMOVPS Y3, Y14, (R8)(AX*4)
	VMASKMOVPS Y0, Y14, (DI)(AX*4)
	FINITETAIL(Y0, Y5)

axdone:
	RETFINITE(ret+48(FP))

// func adamHDAVX2(p, grad, m, v, u *float32, n int, h *adamHyper) bool
TEXT ·adamHDAVX2(SB), NOSPLIT, $0-57
	MOVQ p+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ m+16(FP), DX
	MOVQ v+24(FP), R8
	MOVQ u+32(FP), R9
	MOVQ n+40(FP), CX
	MOVQ h+48(FP), R10
	VBROADCASTSS 0(R10), Y6
	VBROADCASTSS 4(R10), Y7
	VBROADCASTSS 8(R10), Y8
	VBROADCASTSS 12(R10), Y9
	VBROADCASTSS 16(R10), Y10
	VBROADCASTSS 20(R10), Y11
	VBROADCASTSS 24(R10), Y12
	VBROADCASTSS 28(R10), Y13
	VPXOR Y15, Y15, Y15
	XORQ AX, AX
	SUBQ $8, CX
	JLT ahdtail

ahdloop:
	VMOVUPS (DI)(AX*4), Y0
	VMOVUPS (SI)(AX*4), Y1
	VMOVUPS (DX)(AX*4), Y2
	VMOVUPS (R8)(AX*4), Y3
	ADAMMOMENTS; ADAMHD
	VMOVUPS Y2, (DX)(AX*4)
	VMOVUPS Y3, (R8)(AX*4)
	VMOVUPS Y4, (R9)(AX*4)
	VMOVUPS Y0, (DI)(AX*4)
	FINITE(Y0, Y5)
	ADDQ $8, AX
	CMPQ AX, CX
	JLE ahdloop

ahdtail:
	ADDQ $8, CX
	SUBQ AX, CX
	JEQ ahddone
	TAILMASK(CX)
	VMASKMOVPS (DI)(AX*4), Y14, Y0
	VMASKMOVPS (SI)(AX*4), Y14, Y1
	VMASKMOVPS (DX)(AX*4), Y14, Y2
	VMASKMOVPS (R8)(AX*4), Y14, Y3
	ADAMMOMENTS; ADAMHD
	VMASKMOVPS Y2, Y14, (DX)(AX*4)
	VMASKMOVPS Y3, Y14, (R8)(AX*4)
	VMASKMOVPS Y4, Y14, (R9)(AX*4)
	VMASKMOVPS Y0, Y14, (DI)(AX*4)
	FINITETAIL(Y0, Y5)

ahddone:
	RETFINITE(ret+56(FP))

// func sgdHDAVX2(p, grad, prev *float32, n int, alpha, wd float32) bool
TEXT ·sgdHDAVX2(SB), NOSPLIT, $0-41
	MOVQ p+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ prev+16(FP), DX
	MOVQ n+24(FP), CX
	VBROADCASTSS alpha+32(FP), Y8
	VBROADCASTSS wd+36(FP), Y9
	VPXOR Y15, Y15, Y15
	XORQ AX, AX
	SUBQ $8, CX
	JLT shdtail

shdloop:
	VMOVUPS (DI)(AX*4), Y0
	VMOVUPS (SI)(AX*4), Y1
	SGDHD
	VMOVUPS Y3, (DX)(AX*4)
	VMOVUPS Y0, (DI)(AX*4)
	FINITE(Y0, Y5)
	ADDQ $8, AX
	CMPQ AX, CX
	JLE shdloop

shdtail:
	ADDQ $8, CX
	SUBQ AX, CX
	JEQ shddone
	TAILMASK(CX)
	VMASKMOVPS (DI)(AX*4), Y14, Y0
	VMASKMOVPS (SI)(AX*4), Y14, Y1
	SGDHD
	VMASKMOVPS Y3, Y14, (DX)(AX*4)
	VMASKMOVPS Y0, Y14, (DI)(AX*4)
	FINITETAIL(Y0, Y5)

shddone:
	RETFINITE(ret+40(FP))

// func adadeltaAVX2(p, grad, v, u *float32, n int, lr, rho, rho1, eps, wd float32) bool
TEXT ·adadeltaAVX2(SB), NOSPLIT, $0-65
	MOVQ p+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ v+16(FP), DX
	MOVQ u+24(FP), R8
	MOVQ n+32(FP), CX
	VBROADCASTSS lr+40(FP), Y8
	VBROADCASTSS rho+44(FP), Y9
	VBROADCASTSS rho1+48(FP), Y10
	VBROADCASTSS eps+52(FP), Y11
	VBROADCASTSS wd+56(FP), Y12
	VPXOR Y15, Y15, Y15
	XORQ AX, AX
	SUBQ $8, CX
	JLT addtail

addloop:
	VMOVUPS (DI)(AX*4), Y0
	VMOVUPS (SI)(AX*4), Y1
	VMOVUPS (DX)(AX*4), Y2
	VMOVUPS (R8)(AX*4), Y3
	ADADELTA
	VMOVUPS Y2, (DX)(AX*4)
	VMOVUPS Y3, (R8)(AX*4)
	VMOVUPS Y0, (DI)(AX*4)
	FINITE(Y0, Y5)
	ADDQ $8, AX
	CMPQ AX, CX
	JLE addloop

addtail:
	ADDQ $8, CX
	SUBQ AX, CX
	JEQ adddone
	TAILMASK(CX)
	VMASKMOVPS (DI)(AX*4), Y14, Y0
	VMASKMOVPS (SI)(AX*4), Y14, Y1
	VMASKMOVPS (DX)(AX*4), Y14, Y2
	VMASKMOVPS (R8)(AX*4), Y14, Y3
	ADADELTA
	VMASKMOVPS Y2, Y14, (DX)(AX*4)
	VMASKMOVPS Y3, Y14, (R8)(AX*4)
	VMASKMOVPS Y0, Y14, (DI)(AX*4)
	FINITETAIL(Y0, Y5)

adddone:
	RETFINITE(ret+64(FP))

// func asgdAVX2(p, grad, ax *float32, n int, decay, eta, wd, mu float32) bool
TEXT ·asgdAVX2(SB), NOSPLIT, $0-49
	MOVQ p+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ ax+16(FP), DX
	MOVQ n+24(FP), CX
	VBROADCASTSS decay+32(FP), Y8
	VBROADCASTSS eta+36(FP), Y9
	VBROADCASTSS wd+40(FP), Y10
	VBROADCASTSS mu+44(FP), Y11
	VPXOR Y15, Y15, Y15
	XORQ AX, AX
	SUBQ $8, CX
	JLT asgtail

asgloop:
	VMOVUPS (DI)(AX*4), Y0
	VMOVUPS (SI)(AX*4), Y1
	VMOVUPS (DX)(AX*4), Y2
	ASGDP; ASGDAVG
	VMOVUPS Y0, (DI)(AX*4)
	VMOVUPS Y2, (DX)(AX*4)
	FINITE(Y0, Y5)
	ADDQ $8, AX
	CMPQ AX, CX
	JLE asgloop

asgtail:
	ADDQ $8, CX
	SUBQ AX, CX
	JEQ asgdone
	TAILMASK(CX)
	VMASKMOVPS (DI)(AX*4), Y14, Y0
	VMASKMOVPS (SI)(AX*4), Y14, Y1
	VMASKMOVPS (DX)(AX*4), Y14, Y2
	ASGDP; ASGDAVG
	VMASKMOVPS Y0, Y14, (DI)(AX*4)
	VMASKMOVPS Y2, Y14, (DX)(AX*4)
	FINITETAIL(Y0, Y5)

asgdone:
	RETFINITE(ret+48(FP))

// func asgdCopyAVX2(p, grad, ax *float32, n int, decay, eta, wd, mu float32) bool
TEXT ·asgdCopyAVX2(SB), NOSPLIT, $0-49
	MOVQ p+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ ax+16(FP), DX
	MOVQ n+24(FP), CX
	VBROADCASTSS decay+32(FP), Y8
	VBROADCASTSS eta+36(FP), Y9
	VBROADCASTSS wd+40(FP), Y10
	VBROADCASTSS mu+44(FP), Y11
	VPXOR Y15, Y15, Y15
	XORQ AX, AX
	SUBQ $8, CX
	JLT asctail

ascloop:
	VMOVUPS (DI)(AX*4), Y0
	VMOVUPS (SI)(AX*4), Y1
	ASGDP
	VMOVUPS Y0, (DI)(AX*4)
	VMOVUPS Y0, (DX)(AX*4)
	FINITE(Y0, Y5)
	ADDQ $8, AX
	CMPQ AX, CX
	JLE ascloop

asctail:
	ADDQ $8, CX
	SUBQ AX, CX
	JEQ ascdone
	TAILMASK(CX)
	VMASKMOVPS (DI)(AX*4), Y14, Y0
	VMASKMOVPS (SI)(AX*4), Y14, Y1
	ASGDP
	VMASKMOVPS Y0, Y14, (DI)(AX*4)
	VMASKMOVPS Y0, Y14, (DX)(AX*4)
	FINITETAIL(Y0, Y5)

ascdone:
	RETFINITE(ret+48(FP))


// RPROPCONSTS completes the constants of RPROP from the arguments
// broadcast in Y9 = etaPlus, Y10 = etaMinus, Y12 = smin, Y13 = smax:
// Y8 = 0x7fffffff, Y11 = 1.0, Y9 = bits(1)^bits(etaPlus), Y10 =
// bits(1)^bits(etaMinus), Y12 = -smin.
#define RPROPCONSTS \
	VPBROADCASTD absMask<>(SB), Y8;  \
	VBROADCASTSS one<>(SB), Y11;     \
	VPXOR        Y11, Y9, Y9;        \
	VPXOR        Y11, Y10, Y10;      \
	VBROADCASTSS signBit<>(SB), Y5;  \
	VXORPS       Y5, Y12, Y12

// RPROP on Y0 = p, Y1 = g, Y2 = prev, Y3 = step, rpropKernel's bit masks
// lane by lane (Y7 is zero from VPXOR, Y5 the sign bit):
//
//	cb = bits(g*prev); nz = (cb&abs + abs)>>31
//	neg = -(cb>>31 & nz); pos = -(^cb>>31 & nz)
//	step = min(max(step * frombits(one ^ xPlus&pos ^ xMinus&neg), smin), smax)
//	gb = bits(g) &^ neg; gnz = -((gb&abs + abs)>>31)
//	p -= frombits((bits(step) | gb&sign) & gnz); prev = gb
//
// with max and min as gc lowers them (see AMSMAX).
#define RPROP \
	VMULPS       Y2, Y1, Y4;        \
	VPAND        Y8, Y4, Y5;        \
	VPADDD       Y8, Y5, Y5;        \
	VPSRLD       $31, Y5, Y5;       \
	VPSRLD       $31, Y4, Y6;       \
	VPANDN       Y5, Y6, Y4;        \
	VPAND        Y5, Y6, Y6;        \
	VPXOR        Y7, Y7, Y7;        \
	VPSUBD       Y6, Y7, Y6;        \
	VPSUBD       Y4, Y7, Y4;        \
	VPAND        Y9, Y4, Y4;        \
	VPAND        Y10, Y6, Y5;       \
	VPXOR        Y5, Y4, Y4;        \
	VPXOR        Y11, Y4, Y4;       \
	VMULPS       Y4, Y3, Y3;        \
	VBROADCASTSS signBit<>(SB), Y5; \
	VXORPS       Y5, Y3, Y3;        \
	VMINPS       Y12, Y3, Y4;       \
	VMINPS       Y3, Y4, Y3;        \
	VORPS        Y4, Y3, Y3;        \
	VXORPS       Y5, Y3, Y3;        \
	VMINPS       Y13, Y3, Y4;       \
	VMINPS       Y3, Y4, Y3;        \
	VORPS        Y4, Y3, Y3;        \
	VPANDN       Y1, Y6, Y2;        \
	VPAND        Y8, Y2, Y4;        \
	VPADDD       Y8, Y4, Y4;        \
	VPSRLD       $31, Y4, Y4;       \
	VPSUBD       Y4, Y7, Y4;        \
	VPAND        Y5, Y2, Y6;        \
	VPOR         Y3, Y6, Y6;        \
	VPAND        Y4, Y6, Y6;        \
	VSUBPS       Y6, Y0, Y0

// func rpropAVX2(p, grad, prev, step *float32, n int, etaMinus, etaPlus, smin, smax float32) bool
TEXT ·rpropAVX2(SB), NOSPLIT, $0-57
	MOVQ p+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ prev+16(FP), DX
	MOVQ step+24(FP), R8
	MOVQ n+32(FP), CX
	VBROADCASTSS etaMinus+40(FP), Y10
	VBROADCASTSS etaPlus+44(FP), Y9
	VBROADCASTSS smin+48(FP), Y12
	VBROADCASTSS smax+52(FP), Y13
	RPROPCONSTS
	VPXOR Y15, Y15, Y15
	XORQ AX, AX
	SUBQ $8, CX
	JLT rprtail

rprloop:
	VMOVUPS (DI)(AX*4), Y0
	VMOVUPS (SI)(AX*4), Y1
	VMOVUPS (DX)(AX*4), Y2
	VMOVUPS (R8)(AX*4), Y3
	RPROP
	VMOVUPS Y3, (R8)(AX*4)
	VMOVUPS Y2, (DX)(AX*4)
	VMOVUPS Y0, (DI)(AX*4)
	FINITE(Y0, Y5)
	ADDQ $8, AX
	CMPQ AX, CX
	JLE rprloop

rprtail:
	ADDQ $8, CX
	SUBQ AX, CX
	JEQ rprdone
	TAILMASK(CX)
	VMASKMOVPS (DI)(AX*4), Y14, Y0
	VMASKMOVPS (SI)(AX*4), Y14, Y1
	VMASKMOVPS (DX)(AX*4), Y14, Y2
	VMASKMOVPS (R8)(AX*4), Y14, Y3
	RPROP
	VMASKMOVPS Y3, Y14, (R8)(AX*4)
	VMASKMOVPS Y2, Y14, (DX)(AX*4)
	VMASKMOVPS Y0, Y14, (DI)(AX*4)
	FINITETAIL(Y0, Y5)

rprdone:
	RETFINITE(ret+56(FP))


// AVX-512 versions of the Adam kernels: the same operations on 16 lanes,
// which pays where the divider and the square root bound the loop (Adam:
// about 18% over AVX2 on Zen 5; the other kernels are bound by memory
// and gain nothing). The tail is masked with K1; bit operations use the
// AVX512F integer forms.

// ZADAMCONSTS: Z6 = b1, Z7 = b11, Z8 = b2, Z9 = b21, Z10 = ss, Z11 = ibc2,
// Z12 = eps, Z13 = wd, Z14 = pmul from adamHyper at R10.
#define ZADAMCONSTS \
	VBROADCASTSS 0(R10), Z6;   \
	VBROADCASTSS 4(R10), Z7;   \
	VBROADCASTSS 8(R10), Z8;   \
	VBROADCASTSS 12(R10), Z9;  \
	VBROADCASTSS 16(R10), Z10; \
	VBROADCASTSS 20(R10), Z11; \
	VBROADCASTSS 24(R10), Z12; \
	VBROADCASTSS 28(R10), Z13; \
	VBROADCASTSS 32(R10), Z14

// ZADAMMOMENTS is ADAMMOMENTS on Z registers.
#define ZADAMMOMENTS \
	VMULPS Z0, Z13, Z4; \
	VADDPS Z1, Z4, Z4;  \
	VMULPS Z2, Z6, Z2;  \
	VMULPS Z4, Z7, Z1;  \
	VADDPS Z2, Z1, Z2;  \
	VMULPS Z4, Z4, Z4;  \
	VMULPS Z9, Z4, Z4;  \
	VMULPS Z3, Z8, Z3;  \
	VADDPS Z3, Z4, Z3

// ZADAMUPDATE(r) is ADAMUPDATE on Z registers (pmul in Z14).
#define ZADAMUPDATE(r) \
	VSQRTPS r, Z4;       \
	VMULPS  Z4, Z11, Z4; \
	VADDPS  Z4, Z12, Z4; \
	VDIVPS  Z4, Z2, Z4;  \
	VMULPS  Z10, Z4, Z4; \
	VMULPS  Z0, Z14, Z0; \
	VSUBPS  Z4, Z0, Z0

// ZAMSMAX is AMSMAX on Z registers: Z5 = max(Z5, Z3) (clobbers Z1, Z4).
#define ZAMSMAX \
	VPBROADCASTD signBit<>(SB), Z1; \
	VPXORD       Z1, Z5, Z5;        \
	VPXORD       Z1, Z3, Z4;        \
	VMINPS       Z4, Z5, Z4;        \
	VMINPS       Z5, Z4, Z5;        \
	VPORD        Z4, Z5, Z5;        \
	VPXORD       Z1, Z5, Z5

// ZTAILMASK sets K1 to the first r lanes (1 <= r <= 15); it clobbers BX.
#define ZTAILMASK(r) \
	MOVL  $1, BX;  \
	SHLL  r, BX;   \
	DECL  BX;      \
	KMOVW BX, K1

// ZRETFINITE stores whether Z15 is zero at ret and returns.
#define ZRETFINITE(ret) \
	VPTESTMD Z15, Z15, K2; \
	KORTESTW K2, K2;       \
	SETEQ    ret;          \
	VZEROUPPER;            \
	RET

// func adamAVX512(p, grad, m, v *float32, n int, h *adamHyper) bool
TEXT ·adamAVX512(SB), NOSPLIT, $0-49
	MOVQ   p+0(FP), DI
	MOVQ   grad+8(FP), SI
	MOVQ   m+16(FP), DX
	MOVQ   v+24(FP), R8
	MOVQ   n+32(FP), CX
	MOVQ   h+40(FP), R10
	ZADAMCONSTS
	VPXORD Z15, Z15, Z15
	XORQ   AX, AX
	SUBQ   $16, CX
	JLT    zatail

zaloop:
	VMOVUPS (DI)(AX*4), Z0
	VMOVUPS (SI)(AX*4), Z1
	VMOVUPS (DX)(AX*4), Z2
	VMOVUPS (R8)(AX*4), Z3
	ZADAMMOMENTS
	VMOVUPS Z2, (DX)(AX*4)
	VMOVUPS Z3, (R8)(AX*4)
	ZADAMUPDATE(Z3)
	VMOVUPS Z0, (DI)(AX*4)
	VSUBPS  Z0, Z0, Z5
	VPORD   Z5, Z15, Z15
	ADDQ    $16, AX
	CMPQ    AX, CX
	JLE     zaloop

zatail:
	ADDQ      $16, CX
	SUBQ      AX, CX
	JEQ       zadone
	ZTAILMASK(CX)
	VMOVUPS.Z (DI)(AX*4), K1, Z0
	VMOVUPS.Z (SI)(AX*4), K1, Z1
	VMOVUPS.Z (DX)(AX*4), K1, Z2
	VMOVUPS.Z (R8)(AX*4), K1, Z3
	ZADAMMOMENTS
	VMOVUPS   Z2, K1, (DX)(AX*4)
	VMOVUPS   Z3, K1, (R8)(AX*4)
	ZADAMUPDATE(Z3)
	VMOVUPS   Z0, K1, (DI)(AX*4)
	VSUBPS.Z  Z0, Z0, K1, Z5
	VPORD     Z5, Z15, Z15

zadone:
	ZRETFINITE(ret+48(FP))

// func adamAMSGradAVX512(p, grad, m, v, vmax *float32, n int, h *adamHyper) bool
TEXT ·adamAMSGradAVX512(SB), NOSPLIT, $0-57
	MOVQ   p+0(FP), DI
	MOVQ   grad+8(FP), SI
	MOVQ   m+16(FP), DX
	MOVQ   v+24(FP), R8
	MOVQ   vmax+32(FP), R9
	MOVQ   n+40(FP), CX
	MOVQ   h+48(FP), R10
	ZADAMCONSTS
	VPXORD Z15, Z15, Z15
	XORQ   AX, AX
	SUBQ   $16, CX
	JLT    zmtail

zmloop:
	VMOVUPS (DI)(AX*4), Z0
	VMOVUPS (SI)(AX*4), Z1
	VMOVUPS (DX)(AX*4), Z2
	VMOVUPS (R8)(AX*4), Z3
	ZADAMMOMENTS
	VMOVUPS Z2, (DX)(AX*4)
	VMOVUPS Z3, (R8)(AX*4)
	VMOVUPS (R9)(AX*4), Z5
	ZAMSMAX
	VMOVUPS Z5, (R9)(AX*4)
	ZADAMUPDATE(Z5)
	VMOVUPS Z0, (DI)(AX*4)
	VSUBPS  Z0, Z0, Z5
	VPORD   Z5, Z15, Z15
	ADDQ    $16, AX
	CMPQ    AX, CX
	JLE     zmloop

zmtail:
	ADDQ      $16, CX
	SUBQ      AX, CX
	JEQ       zmdone
	ZTAILMASK(CX)
	VMOVUPS.Z (DI)(AX*4), K1, Z0
	VMOVUPS.Z (SI)(AX*4), K1, Z1
	VMOVUPS.Z (DX)(AX*4), K1, Z2
	VMOVUPS.Z (R8)(AX*4), K1, Z3
	ZADAMMOMENTS
	VMOVUPS   Z2, K1, (DX)(AX*4)
	VMOVUPS   Z3, K1, (R8)(AX*4)
	VMOVUPS.Z (R9)(AX*4), K1, Z5
	ZAMSMAX
	VMOVUPS   Z5, K1, (R9)(AX*4)
	ZADAMUPDATE(Z5)
	VMOVUPS   Z0, K1, (DI)(AX*4)
	VSUBPS.Z  Z0, Z0, K1, Z5
	VPORD     Z5, Z15, Z15

zmdone:
	ZRETFINITE(ret+56(FP))
