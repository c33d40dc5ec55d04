package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/sgdpipe/sgdpipe/stages"
)

func (a *app) evalCmd() *cobra.Command {
	var (
		modelPath string
		data      []string
		asJSON    bool
		readers   int
		workers   int
	)
	cmd := &cobra.Command{
		Use:   "eval --model MODEL --data FILES",
		Short: "Evaluate a trained model on labelled data",
		Long: `eval runs a model file over labelled data and prints the loss and the task's metrics:
accuracy, per-class precision and recall and the confusion matrix for classification (and AUC for
a binary target); RMSE, MAE and R² for regression. --json prints one JSON object instead.`,
		Example: `  pipe eval --model model.safetensors --data testdata/mnist/test.parquet
  pipe eval --model model.safetensors --data test.parquet --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if modelPath == "" {
				return usagef("--model: required (a model file written by pipe train)")
			}
			if len(data) == 0 {
				return usagef("--data: required (files, directories or globs)")
			}
			m, err := stages.LoadModel(modelPath)
			if err != nil {
				return err
			}
			r, err := stages.Evaluate(cmd.Context(), m, stages.EvalConfig{Paths: data, Readers: readers, Workers: workers, Logger: a.log})
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(r)
			}
			printEval(a.stdout, r)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&modelPath, "model", "", "model file written by pipe train (required)")
	f.StringSliceVar(&data, "data", nil, "labelled data: files, directories or globs, comma-separated or repeated (required)")
	f.BoolVar(&asJSON, "json", false, "print one JSON object")
	f.IntVar(&readers, "readers", 1, "concurrent shard readers")
	f.IntVar(&workers, "workers", 2, "concurrent featurize+forward workers")
	return cmd
}

// printEval writes the human-readable metrics.
func printEval(w io.Writer, r *stages.EvalResult) {
	fmt.Fprintf(w, "rows      %d\n", r.Rows)
	fmt.Fprintf(w, "loss      %.6g\n", r.Loss)
	switch r.Task {
	case "regression":
		fmt.Fprintf(w, "rmse      %.6g\n", deref(r.RMSE))
		fmt.Fprintf(w, "mae       %.6g\n", deref(r.MAE))
		fmt.Fprintf(w, "r2        %.6g\n", deref(r.R2))
		return
	}
	fmt.Fprintf(w, "accuracy  %.4f\n", r.Accuracy)
	if r.AUC != nil {
		fmt.Fprintf(w, "auc       %.4f\n", *r.AUC)
	}
	if len(r.Classes) == 0 {
		return
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "class\tprecision\trecall\t")
	for i, c := range r.Classes {
		fmt.Fprintf(tw, "%s\t%.4f\t%.4f\t\n", c, r.Precision[i], r.Recall[i])
	}
	tw.Flush()
	fmt.Fprintln(w, "\nconfusion matrix (rows: true class, columns: predicted)")
	tw = tabwriter.NewWriter(w, 0, 0, 1, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "\t%s\t\n", strings.Join(r.Classes, "\t"))
	for i, row := range r.Confusion {
		cells := make([]string, len(row))
		for j, v := range row {
			cells[j] = fmt.Sprint(v)
		}
		fmt.Fprintf(tw, "%s\t%s\t\n", r.Classes[i], strings.Join(cells, "\t"))
	}
	tw.Flush()
}

func deref(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}
