package stages_test

import (
	"context"
	"fmt"

	"github.com/sgdpipe/sgdpipe/pipeline"
	"github.com/sgdpipe/sgdpipe/stages"
	"github.com/sgdpipe/sgdpipe/stages/feature"
)

// ExampleDataPath runs the data path over iris (150 rows sorted by class, 3 record
// batches = 3 shards) for two epochs and prints each batch.
func ExampleDataPath() {
	ctx := context.Background()
	d, err := stages.OpenDataPath(ctx, stages.DataConfig{
		Paths:         []string{"../testdata/shared/iris.arrow"},
		Seed:          7,
		Epochs:        2,
		Shuffle:       "buffer",
		ShuffleBuffer: 64,
		Batch:         64,
		Feature:       feature.Config{Target: "label"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer d.Close()
	g := pipeline.New(pipeline.Config{})
	batches, err := d.Add(g, stages.Position{})
	if err != nil {
		fmt.Println(err)
		return
	}
	pipeline.AddSink(g, "print", batches, pipeline.SinkFunc[stages.Batch](func(ctx context.Context, b stages.Batch) error {
		defer b.Release()
		_, rows, cols := b.X()
		fmt.Printf("epoch %d batch %d: %dx%d, first rows %v, last %v, next %+v\n",
			b.Epoch, b.Index, rows, cols, b.RowIDs()[:3], b.Last, b.Next())
		return nil
	}))
	if err := g.Run(ctx); err != nil {
		fmt.Println(err)
		return
	}
	for _, q := range d.Quality.Epochs() {
		fmt.Printf("epoch %d: %d batches, %d classes\n", q.Epoch, q.Batches, q.Bins)
	}
	// Output:
	// epoch 0 batch 0: 64x4, first rows [90 77 119], last false, next {Epoch:0 Emitted:64}
	// epoch 0 batch 1: 64x4, first rows [24 38 22], last false, next {Epoch:0 Emitted:128}
	// epoch 0 batch 2: 22x4, first rows [10 125 26], last true, next {Epoch:1 Emitted:0}
	// epoch 1 batch 0: 64x4, first rows [27 130 40], last false, next {Epoch:1 Emitted:64}
	// epoch 1 batch 1: 64x4, first rows [80 146 57], last false, next {Epoch:1 Emitted:128}
	// epoch 1 batch 2: 22x4, first rows [49 12 78], last true, next {Epoch:2 Emitted:0}
	// epoch 0: 3 batches, 3 classes
	// epoch 1: 3 batches, 3 classes
}

// ExamplePlan shows an epoch plan's shard orders and an index-only resume.
func ExamplePlan() {
	p, err := stages.NewPlan(42, stages.ShuffleBuffer, 4, []int64{5, 5, 5})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("epoch 0 shards:", p.ShardOrder(0))
	fmt.Println("epoch 1 shards:", p.ShardOrder(1))
	order := p.Order(1)
	fmt.Println("epoch 1 rows:  ", order)
	r, err := p.Resume(stages.Position{Epoch: 1, Emitted: 6})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("buffered after 6 rows:", r.Buffered())
	for _, t := range r.Tasks() {
		switch {
		case t.Refill:
			fmt.Printf("%v: re-read rows %v into the buffer\n", t, t.Rows)
		case t.End:
			fmt.Printf("%v\n", t)
		default:
			fmt.Printf("%v: read from row %d\n", t, t.Skip)
		}
	}
	// Output:
	// epoch 0 shards: [2 0 1]
	// epoch 1 shards: [1 0 2]
	// epoch 1 rows:   [7 5 9 1 0 2 6 4 10 11 8 3 13 14 12]
	// buffered after 6 rows: [3 4 6 8]
	// epoch 1 shard 0: re-read rows [3 4] into the buffer
	// epoch 1 shard 1: re-read rows [1 3] into the buffer
	// epoch 1 shard 2: read from row 0
	// end of epoch 1
}
