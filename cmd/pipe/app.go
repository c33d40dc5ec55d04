package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"go.uber.org/zap"
)

// Exit codes of the pipe command.
const (
	exitOK          = 0
	exitRuntime     = 1
	exitUsage       = 2
	exitInterrupted = 130
)

// usageError marks an error caused by the command line (unknown flag, bad value): exit code 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// usagef returns a usage error (exit code 2) with a formatted message.
func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// interruptedError marks a run stopped by SIGINT after it cleaned up: exit code 130.
type interruptedError struct{ err error }

func (e interruptedError) Error() string { return e.err.Error() }
func (e interruptedError) Unwrap() error { return e.err }

// app holds the process-wide state of one invocation: streams, global flags and the logger.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	logLevel       string
	logFormat      string
	log            *zap.Logger
	root           *cobra.Command
}

func newApp(stdin io.Reader, stdout, stderr io.Writer) *app {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr, log: zap.NewNop()}
	root := &cobra.Command{
		Use:   "pipe",
		Short: "Train models with stochastic gradient descent on Parquet, Arrow and CSV files",
		Long: `pipe trains neural networks and linear models with stochastic gradient descent on columnar
data (Parquet, Arrow IPC, CSV). Training runs as a streaming pipeline of stages joined by bounded
queues (readers -> shuffler -> normalizers -> batcher -> compute workers, which also reduce and
apply each step), so memory stays flat however large the data is, and the per-stage report shows
where time goes.

Start here:
  pipe train                      train an MLP on the bundled MNIST data
  pipe inspect data.parquet       schema, rows, shards and column statistics of a data set
  pipe train --data train.parquet --target label --out model.safetensors
  pipe eval --model model.safetensors --data test.parquet
  pipe predict --model model.safetensors --data new.parquet --out preds.parquet

Exit codes: 0 ok, 1 runtime error, 2 usage error, 130 interrupted.`,
		SilenceErrors:     true,
		SilenceUsage:      true,
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			log, err := newLogger(a.stderr, a.logLevel, a.logFormat)
			if err != nil {
				return err
			}
			a.log = log
			return nil
		},
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.PersistentFlags().StringVar(&a.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	root.PersistentFlags().StringVar(&a.logFormat, "log-format", "console", "log format: console or json")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(
		a.trainCmd(),
		a.evalCmd(),
		a.predictCmd(),
		a.inspectCmd(),
		a.versionCmd(),
	)
	a.root = root
	return a
}

// execute runs the command line and maps the outcome to an exit code, printing one line for an error.
func (a *app) execute(ctx context.Context, args []string) int {
	a.root.SetArgs(args)
	err := a.root.ExecuteContext(ctx)
	_ = a.log.Sync()
	if err == nil {
		return exitOK
	}
	msg := strings.TrimSpace(err.Error())
	fmt.Fprintf(a.stderr, "pipe: %s\n", strings.ReplaceAll(msg, "\n", " "))
	var ue usageError
	var ie interruptedError
	switch {
	case errors.As(err, &ie):
		return exitInterrupted
	case errors.As(err, &ue), isCobraUsage(err):
		fmt.Fprintln(a.stderr, "Run 'pipe --help' for usage.")
		return exitUsage
	default:
		return exitRuntime
	}
}

// isCobraUsage recognises the errors cobra returns for unknown commands and bad argument counts.
func isCobraUsage(err error) bool {
	m := err.Error()
	return strings.HasPrefix(m, "unknown command") || strings.HasPrefix(m, "unknown flag") ||
		strings.HasPrefix(m, "unknown shorthand flag") || strings.Contains(m, "arg(s)") ||
		strings.HasPrefix(m, "invalid argument")
}
