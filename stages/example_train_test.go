package stages_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"sync/atomic"

	"github.com/sgdpipe/sgdpipe/pipeline"
	"github.com/sgdpipe/sgdpipe/stages"
)

// ExampleTrain trains a small MLP on the iris data with one call, holds out a fifth of the rows for
// validation, and saves the model.
func ExampleTrain() {
	cfg := stages.TrainConfig{
		Model:     "mlp:16",
		Optimizer: "adam",
		LR:        0.01,
		ValSplit:  0.2,
	}
	cfg.Data.Paths = []string{"../testdata/shared/iris.parquet"}
	cfg.Data.Feature.Target = "label"
	cfg.Data.Epochs = 60
	cfg.Data.Batch = 16
	cfg.Data.Seed = 1

	res, err := stages.Train(context.Background(), cfg)
	if err != nil {
		log.Fatal(err)
	}
	val := res.Epochs[len(res.Epochs)-1].Val
	fmt.Printf("task %s, classes %v\n", res.Model.Features.Task, res.Model.Features.Classes)
	fmt.Printf("held-out accuracy above 90%%: %v\n", val.Accuracy > 0.9)

	path := filepath.Join(os.TempDir(), "iris-example.safetensors")
	if err := res.Model.Save(path); err != nil {
		log.Fatal(err)
	}
	defer os.Remove(path)
	m, err := stages.LoadModel(path)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("reloaded parameters:", len(m.Params))
	// Output:
	// task classification, classes [0 1 2]
	// held-out accuracy above 90%: true
	// reloaded parameters: 131
}

// ExampleTrainConfig_buildData assembles a custom graph: a stage inserted between the normalizer and
// the batcher sees every featurized record (here it only counts rows; it could augment or filter).
func ExampleTrainConfig_buildData() {
	var rows atomic.Int64
	count := pipeline.TransformFunc[stages.Chunk, stages.Chunk](func(ctx context.Context, c stages.Chunk, emit func(stages.Chunk) error) error {
		if c.Rec != nil {
			rows.Add(c.Rec.NumRows())
		}
		if err := emit(c); err != nil {
			c.Release() // not delivered: still ours
			return err
		}
		return nil
	})
	cfg := stages.TrainConfig{Model: "linear", Optimizer: "sgd", LR: 0.1}
	cfg.Data.Paths = []string{"../testdata/shared/iris.csv"}
	cfg.Data.Feature.Target = "label"
	cfg.Data.Epochs = 3
	cfg.BuildData = func(g *pipeline.Graph, dp *stages.DataPath, from stages.Position) (*pipeline.Stream[stages.Batch], error) {
		read, err := dp.AddRead(g, from)
		if err != nil {
			return nil, err
		}
		normalized := dp.AddNormalize(g, dp.AddShuffle(g, read))
		counted := pipeline.AddTransform(g, "count", normalized, count, pipeline.Discard(stages.Chunk.Release))
		return dp.AddBatch(g, counted), nil
	}
	res, err := stages.Train(context.Background(), cfg)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("steps:", res.Steps, "rows seen by the custom stage:", rows.Load())
	// Output:
	// steps: 6 rows seen by the custom stage: 450
}
