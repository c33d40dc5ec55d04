package ops

import "fmt"

// TensorInfo names one tensor inside a flat vector: elements [Offset, Offset+Size),
// row-major with the given Shape.
type TensorInfo struct {
	Name   string // e.g. "0.weight", "0.bias" (PyTorch nn.Sequential naming)
	Shape  []int  // e.g. [out, in] for a Dense weight, [out] for its bias
	Offset int    // first element in the flat vector
	Size   int    // product of Shape
}

// Matrix returns the view of the tensor inside v as a matrix without copying: a 2-D
// tensor is (Shape[0], Shape[1]), a 1-D tensor is one row. It panics if v is too short.
func (t TensorInfo) Matrix(v []float32) Matrix {
	v = t.Of(v)
	if len(t.Shape) == 2 {
		return MatrixOf(v, t.Shape[0], t.Shape[1])
	}
	return MatrixOf(v, 1, t.Size)
}

// Of returns the tensor's elements inside v, a sub-slice (no copy) with capacity
// capped so appends cannot spill into the next tensor.
func (t TensorInfo) Of(v []float32) []float32 { return v[t.Offset : t.Offset+t.Size : t.Offset+t.Size] }

// Layout is the table of tensors packed, in order and without gaps, into one flat
// vector of Size elements. Parameters, gradients and optimizer state all use the
// Layout of their Net, so updates are single loops and a checkpoint is one blob.
//
// A Layout obtained from a Net is shared: treat it as read-only. It is safe for
// concurrent reads. The zero value is the empty layout.
type Layout struct {
	Tensors []TensorInfo // in vector order; Tensors[i+1].Offset == Tensors[i].Offset+Tensors[i].Size
	Size    int          // total number of elements
}

// add appends a tensor of the given shape and returns its offset.
func (l *Layout) add(name string, shape ...int) int {
	size := 1
	for _, d := range shape {
		size *= d
	}
	off := l.Size
	l.Tensors = append(l.Tensors, TensorInfo{Name: name, Shape: shape, Offset: off, Size: size})
	l.Size += size
	return off
}

// Lookup returns the tensor called name, and whether it exists. Cost: a linear scan.
func (l Layout) Lookup(name string) (TensorInfo, bool) {
	for _, t := range l.Tensors {
		if t.Name == name {
			return t, true
		}
	}
	return TensorInfo{}, false
}

// NewVector allocates a zeroed vector of l.Size elements.
func (l Layout) NewVector() []float32 { return make([]float32, l.Size) }

// String lists the tensors, e.g. "0.weight[4 3] 0.bias[4] (16 elements)".
func (l Layout) String() string {
	s := ""
	for _, t := range l.Tensors {
		s += fmt.Sprintf("%s%v ", t.Name, t.Shape)
	}
	return fmt.Sprintf("%s(%d elements)", s, l.Size)
}
