// Copyright 2026 The sgdpipe Authors.

//go:build amd64 && !noasm

#include "textflag.h"

// func transpose4AVX2(dst *float32, dstStride int, src *float32, srcStride int, n int)
//
// For c < n (a multiple of 8) and r < 4:
//	dst[c*dstStride + r] = src[r*srcStride + c]
// Each step loads a 4×8 block as four ymm rows, transposes it as two 4×4
// blocks (one per 128-bit lane) and stores eight 4-float columns.
TEXT ·transpose4AVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ dstStride+8(FP), R8
	SHLQ $2, R8
	MOVQ src+16(FP), SI
	MOVQ srcStride+24(FP), R9
	SHLQ $2, R9
	MOVQ n+32(FP), CX
	SHRQ $3, CX
	JEQ  t4done
	LEAQ (R9)(R9*2), R10 // 3*srcStride
	LEAQ (R8)(R8*2), R11 // 3*dstStride
	LEAQ (DI)(R8*4), R12 // dst + 4 columns

t4loop:
	VMOVUPS (SI), Y0
	VMOVUPS (SI)(R9*1), Y1
	VMOVUPS (SI)(R9*2), Y2
	VMOVUPS (SI)(R10*1), Y3
	VUNPCKLPS Y1, Y0, Y4 // a0 b0 a1 b1 | a4 b4 a5 b5
	VUNPCKHPS Y1, Y0, Y5 // a2 b2 a3 b3 | a6 b6 a7 b7
	VUNPCKLPS Y3, Y2, Y6 // c0 d0 c1 d1 | c4 d4 c5 d5
	VUNPCKHPS Y3, Y2, Y7 // c2 d2 c3 d3 | c6 d6 c7 d7
	VSHUFPS $0x44, Y6, Y4, Y0 // column 0 | column 4
	VSHUFPS $0xee, Y6, Y4, Y1 // column 1 | column 5
	VSHUFPS $0x44, Y7, Y5, Y2 // column 2 | column 6
	VSHUFPS $0xee, Y7, Y5, Y3 // column 3 | column 7
	VMOVUPS X0, (DI)
	VMOVUPS X1, (DI)(R8*1)
	VMOVUPS X2, (DI)(R8*2)
	VMOVUPS X3, (DI)(R11*1)
	VEXTRACTF128 $1, Y0, (R12)
	VEXTRACTF128 $1, Y1, (R12)(R8*1)
	VEXTRACTF128 $1, Y2, (R12)(R8*2)
	VEXTRACTF128 $1, Y3, (R12)(R11*1)
	ADDQ $32, SI
	LEAQ (DI)(R8*8), DI
	LEAQ (R12)(R8*8), R12
	DECQ CX
	JNE  t4loop
	VZEROUPPER

t4done:
	RET

// func copyRowsAVX2(dst *float32, dstStride int, src *float32, srcStride int, rows, w int)
//
// For r < rows and c < w: dst[r*dstStride + c] = src[r*srcStride + c].
TEXT ·copyRowsAVX2(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ dstStride+8(FP), R8
	SHLQ $2, R8
	MOVQ src+16(FP), SI
	MOVQ srcStride+24(FP), R9
	SHLQ $2, R9
	MOVQ rows+32(FP), CX
	MOVQ w+40(FP), DX
	TESTQ CX, CX
	JEQ  crdone

crrow:
	XORQ AX, AX // column
	MOVQ DX, BX
	SUBQ $8, BX
	JLT  crfour

cr8:
	VMOVUPS (SI)(AX*4), Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ $8, AX
	CMPQ AX, BX
	JLE  cr8

crfour:
	MOVQ DX, BX
	SUBQ AX, BX
	CMPQ BX, $4
	JLT  crone
	VMOVUPS (SI)(AX*4), X0
	VMOVUPS X0, (DI)(AX*4)
	ADDQ $4, AX

crone:
	CMPQ AX, DX
	JGE  crnext
	MOVL (SI)(AX*4), BX
	MOVL BX, (DI)(AX*4)
	INCQ AX
	JMP  crone

crnext:
	ADDQ R8, DI
	ADDQ R9, SI
	DECQ CX
	JNE  crrow
	VZEROUPPER

crdone:
	RET
