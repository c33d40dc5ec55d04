package bufpool_test

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/sgdpipe/sgdpipe/internal/bufpool"
)

// Records built through the pool give their buffers back when released; the next
// record of the same size reuses them.
func Example() {
	pool := bufpool.New(0)
	for range 3 {
		b := array.NewFloat32Builder(pool)
		for i := range 10000 {
			b.Append(float32(i))
		}
		arr := b.NewFloat32Array()
		b.Release()
		arr.Release()
	}
	reused, made, _ := pool.Stats()
	fmt.Println(reused > 0, made < reused+made)
	// Output: true true
}
