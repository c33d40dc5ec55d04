package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/sgdpipe/sgdpipe/io/source"
	"github.com/sgdpipe/sgdpipe/stages/feature"
)

// inspectOutput is the JSON document printed by `pipe inspect --json`.
type inspectOutput struct {
	*source.Summary
	Features *feature.Spec `json:"features,omitempty"` // with --stats: the featurizer's pre-pass
}

func (a *app) inspectCmd() *cobra.Command {
	var (
		asJSON  bool
		stats   bool
		fcfg    feature.Config
		readers int
	)
	cmd := &cobra.Command{
		Use:   "inspect PATH...",
		Short: "Show files, schema, rows, shards and column statistics of a data set",
		Long: `inspect reads the metadata of the given files, directories or globs (Parquet, Arrow IPC file
or stream, CSV) and prints: each file with its format, size, rows and shards (row groups, record
batches or CSV chunks); the common schema; per column the null count and min/max (from Parquet
statistics where present, else from a scan).`,
		Example: `  pipe inspect testdata/mnist/train.parquet
  pipe inspect --json data/*.parquet
  pipe inspect --stats --target label testdata/shared/iris.parquet`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, paths []string) error {
			ds, err := source.Open(paths, source.Options{})
			if err != nil {
				return err
			}
			defer ds.Close()
			sum, err := source.Inspect(cmd.Context(), ds)
			if err != nil {
				return err
			}
			out := inspectOutput{Summary: sum}
			if stats {
				if out.Features, err = feature.Fit(cmd.Context(), ds, fcfg, readers); err != nil {
					return err
				}
			}
			if asJSON {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(out)
			}
			printSummary(a.stdout, sum)
			if out.Features != nil {
				printFeatures(a.stdout, out.Features)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&asJSON, "json", false, "print one JSON object instead of tables")
	f.BoolVar(&stats, "stats", false, "also run the featurizer's pre-pass: per-feature encoding, statistics and the target's classes")
	f.StringVar(&fcfg.Target, "target", "", "with --stats: the target column")
	f.StringSliceVar(&fcfg.Features, "features", nil, "with --stats: feature columns (default all but the target)")
	f.StringSliceVar(&fcfg.Exclude, "exclude", nil, "with --stats: columns not to use as features")
	f.IntVar(&fcfg.HashBuckets, "hash-buckets", 0, "with --stats: hash string columns into this many buckets")
	f.BoolVar(&fcfg.AllowNonFinite, "allow-nonfinite", false, "with --stats: count NaN/Inf as missing instead of failing")
	f.IntVar(&readers, "readers", 2, "with --stats: parallel readers of the pre-pass")
	return cmd
}

// printSummary writes the human-readable form of a data set summary.
func printSummary(w io.Writer, s *source.Summary) {
	fmt.Fprintf(w, "%d file(s), %d rows, %d shard(s)\n\n", len(s.Files), s.Rows, s.Shards)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FILE\tFORMAT\tBYTES\tROWS\tSHARDS")
	for _, f := range s.Files {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\n", f.Path, f.Format, f.Size, f.Rows, f.Shards)
	}
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "COLUMN\tTYPE\tNULLS\tMIN\tMAX\tSTATS FROM")
	for _, c := range s.Schema {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\n", c.Name, c.Type, c.Nulls, fmtOpt(c.Min), fmtOpt(c.Max), orDash(c.StatsFrom))
	}
	tw.Flush()
}

// printFeatures writes the featurizer's pre-pass statistics.
func printFeatures(w io.Writer, s *feature.Spec) {
	fmt.Fprintf(w, "\nfeatures: %d column(s) -> x of width %d, %d rows", len(s.Features), s.Dim, s.Rows)
	if s.Target != "" {
		fmt.Fprintf(w, "; target %q: %s", s.Target, s.Task)
		if len(s.Classes) > 0 {
			fmt.Fprintf(w, ", %d classes %s", len(s.Classes), strings.Join(limit(s.Classes, 12), " "))
		}
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FEATURE\tENCODING\tWIDTH\tNULLS\tMEAN\tSTD\tMIN\tMAX")
	for _, c := range s.Features {
		mean, std, lo, hi := "-", "-", "-", "-"
		if len(c.Stats) > 0 {
			var all feature.Moments
			for _, m := range c.Stats {
				all.Merge(m)
			}
			mean, std = fmt.Sprintf("%.4g", all.Mean()), fmt.Sprintf("%.4g", all.Std())
			lo, hi = fmt.Sprintf("%.4g", all.Min()), fmt.Sprintf("%.4g", all.Max())
		}
		enc := string(c.Encoding)
		if len(c.Vocab) > 0 {
			enc += fmt.Sprintf(" (%d of %d values)", len(c.Vocab), c.Distinct)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\t%s\t%s\n", c.Name, enc, c.Width, c.Nulls, mean, std, lo, hi)
	}
	tw.Flush()
}

// limit returns at most n elements of s, with "..." when it cut.
func limit(s []string, n int) []string {
	if len(s) <= n {
		return s
	}
	return append(append([]string(nil), s[:n]...), "...")
}

func fmtOpt(v *float64) string {
	if v == nil {
		return "-"
	}
	return strings.TrimSuffix(fmt.Sprintf("%.6g", *v), ".")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
