package ops

// Argmax writes into dst[i] the column of the largest element of row i of m (the
// first one on ties; NaNs are never chosen unless a row is all NaN, then 0). It
// panics if len(dst) != m.Rows. It does not allocate and is safe for concurrent use.
func Argmax(dst []int32, m Matrix) {
	if len(dst) != m.Rows {
		panic(errLabelsLen)
	}
	m.check()
	for i := range m.Rows {
		dst[i] = int32(argmaxRow(m.Row(i)))
	}
}

func argmaxRow(r []float32) int {
	best := 0
	for j, v := range r {
		if v > r[best] || (r[best] != r[best] && v == v) {
			best = j
		}
	}
	return best
}

// CountCorrect returns how many rows of the model outputs out predict their label.
// With several columns the prediction is the argmax (classification logits or
// probabilities); with one column it is 1 when the output is > 0 (a logit or a hinge
// decision value) and 0 otherwise, compared with label > 0, so 0/1 and -1/+1 labels
// both work. It panics if len(labels) != out.Rows. It does not allocate.
func CountCorrect(out Matrix, labels []int32) int {
	if len(labels) != out.Rows {
		panic(errLabelsLen)
	}
	out.check()
	n := 0
	for i := range out.Rows {
		r := out.Row(i)
		if len(r) == 1 {
			if (r[0] > 0) == (labels[i] > 0) {
				n++
			}
			continue
		}
		if int32(argmaxRow(r)) == labels[i] {
			n++
		}
	}
	return n
}
