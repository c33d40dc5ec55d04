package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sgdpipe/sgdpipe/stages"
)

func (a *app) predictCmd() *cobra.Command {
	var (
		modelPath string
		data      []string
		out       string
		keep      []string
		readers   int
		workers   int
	)
	cmd := &cobra.Command{
		Use:   "predict --model MODEL --data FILES --out PREDICTIONS",
		Short: "Write a trained model's predictions for new data",
		Long: `predict streams the rows of the data through the model and writes one row per input row, in
input order: the --keep columns copied from the input, "prediction" (the class name, or the value for
regression) and, for classifiers, one "prob_<class>" probability column per class. The output is
Parquet, or CSV when --out ends in .csv; it appears only when complete.`,
		Example: `  pipe predict --model model.safetensors --data new.parquet --out preds.parquet
  pipe predict --model model.safetensors --data new.csv --out preds.csv --keep id`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch {
			case modelPath == "":
				return usagef("--model: required (a model file written by pipe train)")
			case len(data) == 0:
				return usagef("--data: required (files, directories or globs)")
			case out == "":
				return usagef("--out: required (predictions file, .parquet or .csv)")
			}
			m, err := stages.LoadModel(modelPath)
			if err != nil {
				return err
			}
			n, err := stages.Predict(cmd.Context(), m, stages.PredictConfig{
				EvalConfig: stages.EvalConfig{Paths: data, Readers: readers, Workers: workers, Keep: keep, Logger: a.log},
				Out:        out,
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "wrote %d predictions to %s\n", n, out)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&modelPath, "model", "", "model file written by pipe train (required)")
	f.StringSliceVar(&data, "data", nil, "input data: files, directories or globs (required)")
	f.StringVar(&out, "out", "", "predictions file: .parquet or .csv (required)")
	f.StringSliceVar(&keep, "keep", nil, "input columns to copy into the predictions (e.g. an id)")
	f.IntVar(&readers, "readers", 1, "concurrent shard readers")
	f.IntVar(&workers, "workers", 2, "concurrent featurize+forward workers")
	return cmd
}
