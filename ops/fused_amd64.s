//go:build amd64 && !noasm

#include "textflag.h"

// func reluBiasAVX2(y, x, b *float32, n int)
//
// For j < n (a multiple of 8): y[j] = max(x[j] + b[j], 0), or max(x[j], 0) when b is
// nil, with Go's max semantics: the sum is kept where !(sum <= 0) (positive or NaN)
// and its bits cleared elsewhere, so NaN propagates and -0 gives +0.
TEXT ·reluBiasAVX2(SB), NOSPLIT, $0-32
	MOVQ   y+0(FP), DI
	MOVQ   x+8(FP), SI
	MOVQ   b+16(FP), DX
	MOVQ   n+24(FP), CX
	VXORPS Y15, Y15, Y15
	TESTQ  DX, DX
	JEQ    nb32

b32:
	CMPQ    CX, $32
	JLT     b8
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS 64(SI), Y2
	VMOVUPS 96(SI), Y3
	VADDPS  (DX), Y0, Y0
	VADDPS  32(DX), Y1, Y1
	VADDPS  64(DX), Y2, Y2
	VADDPS  96(DX), Y3, Y3
	VCMPPS  $0x16, Y15, Y0, Y4 // !(s <= 0): NLE_UQ
	VCMPPS  $0x16, Y15, Y1, Y5
	VCMPPS  $0x16, Y15, Y2, Y6
	VCMPPS  $0x16, Y15, Y3, Y7
	VANDPS  Y4, Y0, Y0
	VANDPS  Y5, Y1, Y1
	VANDPS  Y6, Y2, Y2
	VANDPS  Y7, Y3, Y3
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ    $128, SI
	ADDQ    $128, DX
	ADDQ    $128, DI
	SUBQ    $32, CX
	JMP     b32

b8:
	CMPQ    CX, $8
	JLT     done
	VMOVUPS (SI), Y0
	VADDPS  (DX), Y0, Y0
	VCMPPS  $0x16, Y15, Y0, Y4
	VANDPS  Y4, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, DI
	SUBQ    $8, CX
	JMP     b8

nb32:
	CMPQ    CX, $32
	JLT     nb8
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS 64(SI), Y2
	VMOVUPS 96(SI), Y3
	VCMPPS  $0x16, Y15, Y0, Y4
	VCMPPS  $0x16, Y15, Y1, Y5
	VCMPPS  $0x16, Y15, Y2, Y6
	VCMPPS  $0x16, Y15, Y3, Y7
	VANDPS  Y4, Y0, Y0
	VANDPS  Y5, Y1, Y1
	VANDPS  Y6, Y2, Y2
	VANDPS  Y7, Y3, Y3
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ    $128, SI
	ADDQ    $128, DI
	SUBQ    $32, CX
	JMP     nb32

nb8:
	CMPQ    CX, $8
	JLT     done
	VMOVUPS (SI), Y0
	VCMPPS  $0x16, Y15, Y0, Y4
	VANDPS  Y4, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $8, CX
	JMP     nb8

done:
	VZEROUPPER
	RET

// func reluBackwardAVX2(dx, dy, y, db *float32, n int)
//
// For j < n (a multiple of 8): dx[j] = dy[j] where y[j] > 0 (ordered: false for NaN)
// and +0 elsewhere, by clearing the bits of dy under the mask; when db is not nil,
// db[j] = db[j] + dx[j].
TEXT ·reluBackwardAVX2(SB), NOSPLIT, $0-40
	MOVQ   dx+0(FP), DI
	MOVQ   dy+8(FP), SI
	MOVQ   y+16(FP), R8
	MOVQ   db+24(FP), DX
	MOVQ   n+32(FP), CX
	VXORPS Y15, Y15, Y15
	TESTQ  DX, DX
	JEQ    nd32

d32:
	CMPQ    CX, $32
	JLT     d8
	VMOVUPS (R8), Y0
	VMOVUPS 32(R8), Y1
	VMOVUPS 64(R8), Y2
	VMOVUPS 96(R8), Y3
	VCMPPS  $0x1e, Y15, Y0, Y0 // y > 0: GT_OQ
	VCMPPS  $0x1e, Y15, Y1, Y1
	VCMPPS  $0x1e, Y15, Y2, Y2
	VCMPPS  $0x1e, Y15, Y3, Y3
	VANDPS  (SI), Y0, Y0
	VANDPS  32(SI), Y1, Y1
	VANDPS  64(SI), Y2, Y2
	VANDPS  96(SI), Y3, Y3
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	VMOVUPS (DX), Y4
	VMOVUPS 32(DX), Y5
	VMOVUPS 64(DX), Y6
	VMOVUPS 96(DX), Y7
	VADDPS  Y0, Y4, Y4 // db + dx, as db[j] += dx[j]
	VADDPS  Y1, Y5, Y5
	VADDPS  Y2, Y6, Y6
	VADDPS  Y3, Y7, Y7
	VMOVUPS Y4, (DX)
	VMOVUPS Y5, 32(DX)
	VMOVUPS Y6, 64(DX)
	VMOVUPS Y7, 96(DX)
	ADDQ    $128, SI
	ADDQ    $128, R8
	ADDQ    $128, DI
	ADDQ    $128, DX
	SUBQ    $32, CX
	JMP     d32

d8:
	CMPQ    CX, $8
	JLT     bdone
	VMOVUPS (R8), Y0
	VCMPPS  $0x1e, Y15, Y0, Y0
	VANDPS  (SI), Y0, Y0
	VMOVUPS Y0, (DI)
	VMOVUPS (DX), Y4
	VADDPS  Y0, Y4, Y4
	VMOVUPS Y4, (DX)
	ADDQ    $32, SI
	ADDQ    $32, R8
	ADDQ    $32, DI
	ADDQ    $32, DX
	SUBQ    $8, CX
	JMP     d8

nd32:
	CMPQ    CX, $32
	JLT     nd8
	VMOVUPS (R8), Y0
	VMOVUPS 32(R8), Y1
	VMOVUPS 64(R8), Y2
	VMOVUPS 96(R8), Y3
	VCMPPS  $0x1e, Y15, Y0, Y0
	VCMPPS  $0x1e, Y15, Y1, Y1
	VCMPPS  $0x1e, Y15, Y2, Y2
	VCMPPS  $0x1e, Y15, Y3, Y3
	VANDPS  (SI), Y0, Y0
	VANDPS  32(SI), Y1, Y1
	VANDPS  64(SI), Y2, Y2
	VANDPS  96(SI), Y3, Y3
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ    $128, SI
	ADDQ    $128, R8
	ADDQ    $128, DI
	SUBQ    $32, CX
	JMP     nd32

nd8:
	CMPQ    CX, $8
	JLT     bdone
	VMOVUPS (R8), Y0
	VCMPPS  $0x1e, Y15, Y0, Y0
	VANDPS  (SI), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, R8
	ADDQ    $32, DI
	SUBQ    $8, CX
	JMP     nd8

bdone:
	VZEROUPPER
	RET
