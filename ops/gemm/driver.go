// Copyright 2026 The sgdpipe Authors.

package gemm

import (
	"sync"
	"unsafe"
)

// problem is one validated product C = alpha*op(A)*op(B) + beta*C with
// k >= 1, alpha != 0, m, n >= 1. Element (i, p) of op(A) is a[i*lda+p], or
// a[p*lda+i] when aT; element (p, j) of op(B) is b[p*ldb+j], or b[j*ldb+p]
// when bT; element (i, j) of C is c[i*ldc+j].
type problem struct {
	m, n, k     int
	a           []float32
	lda         int
	aT          bool
	b           []float32
	ldb         int
	bT          bool
	c           []float32
	ldc         int
	alpha, beta float32
}

// packing says which operands the serial driver copies into panels.
type packing int

const (
	packAuto  packing = iota // decided by plan
	packNone                 // read A and (if possible) B in place
	packBoth                 // always pack both
	packOnlyA                // pack A; B only if it must be
	packOnlyB                // pack B, read A in place
)

// forcePacking overrides plan in tests; packAuto in production.
var forcePacking = packAuto

// minFlopsPerThread is ParallelMinFlops; tests lower it to split small
// products.
var minFlopsPerThread float64 = ParallelMinFlops

// plan decides whether to pack A and B for a product of this shape.
//
// Packing copies an operand into contiguous, aligned panels in the order the
// kernel reads them, at about 0.1 ns per element (AVX2 copy and transpose
// loops). An operand read in place must still be addressable by the
// kernel: a transposed B must be packed (the kernel loads rows of B as
// vectors), and so must a partial panel of B when the kernel cannot mask its
// loads. Otherwise, measured on Zen 4 from 128³ to 2048³, reading B in place
// is as fast or faster (by up to 10% at 512³), and so is reading A in place
// unless its rows are a multiple of 4 KiB apart: then the twelve rows of a
// panel fall in the same L1 sets and packing A gains about 10%, provided
// the panel is reused over enough columns to pay for the copy.
func (p *problem) plan(kern *kernel) (packA, packB bool) {
	switch forcePacking {
	case packNone:
		return false, p.bT || !kern.maskedB
	case packBoth:
		return true, true
	case packOnlyA:
		return true, p.bT || !kern.maskedB
	case packOnlyB:
		return false, true
	}
	packB = p.bT || !kern.maskedB
	packA = p.lda%1024 == 0 && p.n >= 8*kern.nr
	return packA, packB
}

// run computes the product on up to threads goroutines, the caller's
// included, splitting C into column or row stripes, each goroutine getting
// at least minFlopsPerThread of work.
func (p *problem) run(kern *kernel, threads int) {
	flops := 2 * float64(p.m) * float64(p.n) * float64(p.k)
	t := min(threads, int(flops/minFlopsPerThread))
	colTiles := (p.n + kern.nr - 1) / kern.nr
	rowTiles := (p.m + kern.mr - 1) / kern.mr
	// Split along the packed operand, so that no goroutine packs what
	// another packs too; otherwise along the longer side.
	packA, packB := p.plan(kern)
	byCols := colTiles >= rowTiles
	if packA != packB {
		byCols = packB && colTiles >= 2
	}
	tiles := rowTiles
	if byCols {
		tiles = colTiles
	}
	t = min(t, tiles)
	if t <= 1 {
		ws := workspaces.Get().(*workspace)
		p.serial(kern, ws)
		workspaces.Put(ws)
		return
	}
	set := taskSets.Get().(*taskSet)
	set.grow(t)
	per := (tiles + t - 1) / t
	parts := 0
	for i := range t {
		sub := *p
		if byCols {
			j0 := i * per * kern.nr
			if j0 >= p.n {
				break
			}
			j1 := min(p.n, j0+per*kern.nr)
			sub.n = j1 - j0
			if p.bT {
				sub.b = p.b[j0*p.ldb:]
			} else {
				sub.b = p.b[j0:]
			}
			sub.c = p.c[j0:]
		} else {
			i0 := i * per * kern.mr
			if i0 >= p.m {
				break
			}
			i1 := min(p.m, i0+per*kern.mr)
			sub.m = i1 - i0
			if p.aT {
				sub.a = p.a[i0:]
			} else {
				sub.a = p.a[i0*p.lda:]
			}
			sub.c = p.c[i0*p.ldc:]
		}
		set.tasks[i].p = sub
		set.tasks[i].kern = kern
		parts++
	}
	set.wg.Add(parts - 1)
	for i := 1; i < parts; i++ {
		go set.tasks[i].fn()
	}
	set.tasks[0].do()
	set.wg.Wait()
	for i := range parts {
		set.tasks[i].p = problem{} // drop references to the caller's slices
	}
	taskSets.Put(set)
}

// taskSet is the reusable state of one split product: the WaitGroup and one
// task per goroutine, each with its closure built once, so that starting the
// goroutines does not allocate.
type taskSet struct {
	wg    sync.WaitGroup
	tasks []*task
}

type task struct {
	p    problem
	kern *kernel
	set  *taskSet
	fn   func() // do followed by set.wg.Done; built once
}

func (s *taskSet) grow(t int) {
	for len(s.tasks) < t {
		tk := &task{set: s}
		tk.fn = func() {
			tk.do()
			tk.set.wg.Done()
		}
		s.tasks = append(s.tasks, tk)
	}
}

func (tk *task) do() {
	ws := workspaces.Get().(*workspace)
	tk.p.serial(tk.kern, ws)
	workspaces.Put(ws)
}

var taskSets = sync.Pool{New: func() any { return new(taskSet) }}

// workspace holds one goroutine's packing buffers, 64-byte aligned and grown
// on demand, so that steady-state calls do not allocate.
type workspace struct {
	a, b []float32
}

var workspaces = sync.Pool{New: func() any { return new(workspace) }}

// aligned returns buf resliced to n elements starting on a 64-byte boundary,
// reallocating it when it is too small.
func aligned(buf *[]float32, n int) []float32 {
	if cap(*buf) >= n && uintptr(unsafe.Pointer(unsafe.SliceData(*buf)))%64 == 0 {
		return (*buf)[:n]
	}
	raw := make([]float32, n+16)
	off := int((64 - uintptr(unsafe.Pointer(unsafe.SliceData(raw)))%64) % 64 / 4)
	*buf = raw[off : off+n : off+n]
	return *buf
}

// serial computes the product on the calling goroutine, Goto/BLIS style:
//
//	for each mc-row block of A (L3):
//	  for each kc-deep slice (beta applies to the first only):
//	    pack the mc×kc block of A into mr-row panels
//	    for each nc-column block of B (L2):
//	      pack the kc×nc block of B into nr-column panels
//	      for each mr×kc panel of A (L1):
//	        for each kc×nr panel of B (streams from L2):
//	          micro-kernel on one mr×nr tile of C
func (p *problem) serial(kern *kernel, ws *workspace) {
	packA, packB := p.plan(kern)
	mr, nr := kern.mr, kern.nr
	// Split k into equal slices of at most kern.kc: a thin last slice (16
	// deep for k = 784) would pay a tile's fixed costs for little work.
	nk := (p.k + kern.kc - 1) / kern.kc
	kcMax := (p.k + nk - 1) / nk
	var ap, bp []float32
	if packA {
		ap = aligned(&ws.a, roundUp(min(kern.mc, p.m), mr)*kcMax)
	}
	if packB {
		bp = aligned(&ws.b, kcMax*roundUp(min(kern.nc, p.n), nr))
	}
	for ic := 0; ic < p.m; ic += kern.mc {
		mc := min(kern.mc, p.m-ic)
		for pc := 0; pc < p.k; pc += kcMax {
			kc := min(kcMax, p.k-pc)
			beta := p.beta
			if pc > 0 {
				beta = 1
			}
			if packA {
				p.packA(&kern.pack, ap, ic, pc, mc, kc, mr)
			}
			for jc := 0; jc < p.n; jc += kern.nc {
				nc := min(kern.nc, p.n-jc)
				if packB {
					p.packB(&kern.pack, bp, pc, jc, kc, nc, nr)
				}
				for ir := 0; ir < mc; ir += mr {
					mrr := min(mr, mc-ir)
					var a []float32
					var rsa, csa int
					switch {
					case packA:
						a, rsa, csa = ap[ir*kc:], 1, mr
					case p.aT:
						a, rsa, csa = p.a[pc*p.lda+ic+ir:], 1, p.lda
					default:
						a, rsa, csa = p.a[(ic+ir)*p.lda+pc:], p.lda, 1
					}
					crow := p.c[(ic+ir)*p.ldc+jc:]
					for jr := 0; jr < nc; jr += nr {
						nrr := min(nr, nc-jr)
						var b []float32
						var csb int
						if packB {
							b, csb = bp[jr*kc:], nr
						} else {
							b, csb = p.b[pc*p.ldb+jc+jr:], p.ldb
						}
						kern.fn(mrr, nrr, kc, a, rsa, csa, b, csb, crow[jr:], p.ldc, p.alpha, beta)
					}
				}
			}
		}
	}
}

func roundUp(x, m int) int { return (x + m - 1) / m * m }
