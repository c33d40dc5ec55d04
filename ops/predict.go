package ops

// Predict runs the network in evaluation mode (dropout off) over all rows of x, in
// chunks of ws.MaxBatch rows, and writes link(output) into dst, a (x.Rows, OutDim)
// matrix: class probabilities for LinkSoftmax, the probability of class 1 for
// LinkSigmoid, raw outputs for LinkIdentity. Use the Link of the training loss.
// It overwrites ws's saved activations (no Backward may follow), panics on shape
// mismatches and does not allocate.
func (n *Net) Predict(dst Matrix, ws *Workspace, params []float32, x Matrix, link Link) {
	x.check()
	dst.check()
	if dst.Rows != x.Rows || dst.Cols != n.OutDim() {
		panic(errShape)
	}
	for lo := 0; lo < x.Rows; lo += ws.MaxBatch() {
		hi := min(lo+ws.MaxBatch(), x.Rows)
		out := n.Forward(ws, params, x.SliceRows(lo, hi), false, 0)
		d := dst.SliceRows(lo, hi)
		for i := range out.Rows {
			applyLink(d.Row(i), out.Row(i), link)
		}
	}
	ws.ws.ready = false
}

// applyLink writes link(o) into dst.
func applyLink(dst, o []float32, link Link) {
	switch link {
	case LinkSoftmax:
		softmaxRow(dst, o)
	case LinkSigmoid:
		dst = dst[:len(o)]
		for j, v := range o {
			dst[j] = float32(sigmoid(float64(v)))
		}
	case LinkIdentity:
		copy(dst, o)
	default:
		panic("ops: unknown link")
	}
}
