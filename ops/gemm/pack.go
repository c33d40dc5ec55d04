// Copyright 2026 The sgdpipe Authors.

package gemm

// packA copies the mc×kc block of op(A) at (ic, pc) into dst as mr-row
// panels: panel q starts at q*mr*kc and holds element (r, p) at p*mr + r.
// Rows past mc in the last panel are left as they are: kernels for fewer
// rows never read them.
func (p *problem) packA(dst []float32, ic, pc, mc, kc, mr int) {
	for i0 := 0; i0 < mc; i0 += mr {
		rows := min(mr, mc-i0)
		panel := dst[i0*kc : i0*kc+mr*kc]
		if p.aT {
			// Row pp of the panel is contiguous in A: a[(pc+pp)*lda + ic+i0 ...].
			for pp := range kc {
				src := p.a[(pc+pp)*p.lda+ic+i0:]
				src = src[:rows]
				d := panel[pp*mr : pp*mr+rows]
				copy(d, src)
			}
			continue
		}
		for r := range rows {
			src := p.a[(ic+i0+r)*p.lda+pc:]
			src = src[:kc]
			d := panel[r:]
			for pp, v := range src {
				d[pp*mr] = v
			}
		}
	}
}

// packB copies the kc×nc block of op(B) at (pc, jc) into dst as nr-column
// panels: panel q starts at q*nr*kc and holds element (p, j) at p*nr + j.
// Columns past nc in the last panel are zeroed, because kernels without
// column masks read all nr.
func (p *problem) packB(dst []float32, pc, jc, kc, nc, nr int) {
	for j0 := 0; j0 < nc; j0 += nr {
		cols := min(nr, nc-j0)
		panel := dst[j0*kc : j0*kc+nr*kc]
		if cols < nr {
			clear(panel)
		}
		if p.bT {
			// Column j of the panel is contiguous in B: b[(jc+j0+j)*ldb + pc ...].
			for j := range cols {
				src := p.b[(jc+j0+j)*p.ldb+pc:]
				src = src[:kc]
				d := panel[j:]
				for pp, v := range src {
					d[pp*nr] = v
				}
			}
			continue
		}
		for pp := range kc {
			src := p.b[(pc+pp)*p.ldb+jc+j0:]
			copy(panel[pp*nr:pp*nr+cols], src[:cols])
		}
	}
}
