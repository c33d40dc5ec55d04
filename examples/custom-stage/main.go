// Command custom-stage shows how a Go program assembles its own training graph from sgdpipe's pieces:
// the standard reader, shuffler and normalizer, then a stage of its own that adds Gaussian noise to
// the features of every training row (a simple augmentation), then the standard batcher and the
// training stages. It prints the per-stage report at the end, the custom stage included.
//
//	go run ./examples/custom-stage -data testdata/shared/iris.parquet -target label
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"os/signal"

	"github.com/sgdpipe/sgdpipe/pipeline"
	"github.com/sgdpipe/sgdpipe/stages"
	"github.com/sgdpipe/sgdpipe/stages/feature"
)

func main() {
	data := flag.String("data", "testdata/shared/iris.parquet", "training data")
	target := flag.String("target", "label", "target column")
	noise := flag.Float64("noise", 0.05, "standard deviation of the noise added to normalized features")
	out := flag.String("out", "custom.safetensors", "model file")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	cfg := stages.TrainConfig{Model: "mlp:16", Optimizer: "adam", LR: 0.01, ValSplit: 0.2}
	cfg.Data.Paths = []string{*data}
	cfg.Data.Feature.Target = *target
	cfg.Data.Epochs = 40
	cfg.Data.Batch = 16
	cfg.BuildData = func(g *pipeline.Graph, dp *stages.DataPath, from stages.Position) (*pipeline.Stream[stages.Batch], error) {
		read, err := dp.AddRead(g, from)
		if err != nil {
			return nil, err
		}
		normalized := dp.AddNormalize(g, dp.AddShuffle(g, read))
		augmented := pipeline.AddTransform(g, "augment", normalized, augment(*noise, cfg.Data.Seed),
			pipeline.Discard(stages.Chunk.Release))
		return dp.AddBatch(g, augmented), nil
	}
	res, err := stages.Train(ctx, cfg)
	if err != nil {
		log.Fatal(err)
	}
	if err := res.Model.Save(*out); err != nil {
		log.Fatal(err)
	}
	last := res.Epochs[len(res.Epochs)-1]
	fmt.Printf("trained %d steps; held-out accuracy %.3f; model written to %s\n\n%s\n", res.Steps, last.Val.Accuracy, *out, res.Report)
}

// augment returns a stage that adds N(0, sd²) noise to every feature of every record in place. The
// normalizer's records are owned by this stage once received, so writing into them is safe; the noise
// is seeded per record from its first row index, so runs stay reproducible.
func augment(sd float64, seed uint64) pipeline.Transform[stages.Chunk, stages.Chunk] {
	return pipeline.TransformFunc[stages.Chunk, stages.Chunk](func(ctx context.Context, c stages.Chunk, emit func(stages.Chunk) error) error {
		if c.Rec != nil && c.Rec.NumRows() > 0 {
			x, _, _ := feature.XMatrix(c.Rec)
			rows := c.Rec.Column(int(c.Rec.NumCols()) - 1) // __row, the global row index
			rng := rand.New(rand.NewPCG(seed, uint64(rows.GetOneForMarshal(0).(int64))))
			for i := range x {
				x[i] += float32(rng.NormFloat64() * sd)
			}
		}
		if err := emit(c); err != nil {
			c.Release()
			return err
		}
		return nil
	})
}
