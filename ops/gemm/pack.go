// Copyright 2026 The sgdpipe Authors.

package gemm

// packOps are the loops packing is made of; the assembly kernels bring
// AVX2 versions, the generic kernel the Go ones below.
type packOps struct {
	// transpose4 sets dst[c*ds + r] = src[r*ss + c] for r < 4 and c < n,
	// where n is a multiple of 8.
	transpose4 func(dst []float32, ds int, src []float32, ss, n int)
	// copyRows sets dst[r*ds + c] = src[r*ss + c] for r < rows and c < w.
	copyRows func(dst []float32, ds int, src []float32, ss, rows, w int)
}

var goPackOps = packOps{transpose4: transpose4Go, copyRows: copyRowsGo}

func transpose4Go(dst []float32, ds int, src []float32, ss, n int) {
	r0, r1, r2, r3 := src[:n], src[ss:ss+n], src[2*ss:2*ss+n], src[3*ss:3*ss+n]
	for c := range r0 {
		d := dst[c*ds : c*ds+4 : c*ds+4]
		d[0], d[1], d[2], d[3] = r0[c], r1[c], r2[c], r3[c]
	}
}

func copyRowsGo(dst []float32, ds int, src []float32, ss, rows, w int) {
	for r := range rows {
		copy(dst[r*ds:r*ds+w], src[r*ss:r*ss+w])
	}
}

// transpose sets dst[c*ds + r] = src[r*ss + c] for r < rows and c < cols:
// groups of four rows and eight columns through ops.transpose4, the rest
// one element at a time.
func transpose(ops *packOps, dst []float32, ds int, src []float32, ss, rows, cols int) {
	c8 := cols &^ 7
	g := 0 // rows [0, g) go through transpose4 for their first c8 columns
	if c8 > 0 {
		g = rows &^ 3
		for r := 0; r < g; r += 4 {
			ops.transpose4(dst[r:], ds, src[r*ss:], ss, c8)
		}
	}
	for r := range rows {
		c0 := 0
		if r < g {
			c0 = c8
		}
		if c0 == cols {
			continue
		}
		s := src[r*ss+c0 : r*ss+cols]
		d := dst[c0*ds+r:]
		for c, v := range s {
			d[c*ds] = v
		}
	}
}

// packA copies the mc×kc block of op(A) at (ic, pc) into dst as mr-row
// panels: panel q starts at q*mr*kc and holds element (r, p) at p*mr + r.
// Rows past mc in the last panel are left as they are: kernels for fewer
// rows never read them.
func (p *problem) packA(ops *packOps, dst []float32, ic, pc, mc, kc, mr int) {
	for i0 := 0; i0 < mc; i0 += mr {
		rows := min(mr, mc-i0)
		panel := dst[i0*kc : i0*kc+mr*kc]
		if p.aT {
			// Row pp of the panel is contiguous in A.
			ops.copyRows(panel, mr, p.a[pc*p.lda+ic+i0:], p.lda, kc, rows)
		} else {
			transpose(ops, panel, mr, p.a[(ic+i0)*p.lda+pc:], p.lda, rows, kc)
		}
	}
}

// packB copies the kc×nc block of op(B) at (pc, jc) into dst as nr-column
// panels: panel q starts at q*nr*kc and holds element (p, j) at p*nr + j.
// Columns past nc in the last panel are zeroed, because kernels without
// column masks read all nr.
func (p *problem) packB(ops *packOps, dst []float32, pc, jc, kc, nc, nr int) {
	for j0 := 0; j0 < nc; j0 += nr {
		cols := min(nr, nc-j0)
		panel := dst[j0*kc : j0*kc+nr*kc]
		if cols < nr {
			clear(panel)
		}
		if p.bT {
			// Column j of the panel is contiguous in B.
			transpose(ops, panel, nr, p.b[(jc+j0)*p.ldb+pc:], p.ldb, cols, kc)
		} else {
			ops.copyRows(panel, nr, p.b[pc*p.ldb+jc+j0:], p.ldb, kc, cols)
		}
	}
}
