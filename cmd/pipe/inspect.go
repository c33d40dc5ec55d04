package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/sgdpipe/sgdpipe/io/source"
)

// inspectOutput is the JSON document printed by `pipe inspect --json`.
type inspectOutput struct {
	*source.Summary
}

func (a *app) inspectCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "inspect PATH...",
		Short: "Show files, schema, rows, shards and column statistics of a data set",
		Long: `inspect reads the metadata of the given files, directories or globs (Parquet, Arrow IPC file
or stream, CSV) and prints: each file with its format, size, rows and shards (row groups, record
batches or CSV chunks); the common schema; per column the null count and min/max (from Parquet
statistics where present, else from a scan).`,
		Example: `  pipe inspect testdata/mnist/train.parquet
  pipe inspect --json data/*.parquet`,
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
			if asJSON {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(inspectOutput{sum})
			}
			printSummary(a.stdout, sum)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object instead of tables")
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
