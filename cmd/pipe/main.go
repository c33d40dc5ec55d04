// Command pipe trains neural networks and linear models with stochastic gradient descent on columnar
// data (Parquet, Arrow IPC, CSV), as a streaming pipeline of goroutine stages.
//
// Exit codes: 0 success, 1 runtime error (bad data, I/O, divergence), 2 usage error (unknown flag or
// value), 130 interrupted by SIGINT.
package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run executes the command line args and returns the process exit code. It is the whole program minus
// os.Exit, so tests drive it in-process.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	app := newApp(stdin, stdout, stderr)
	return app.execute(ctx, args)
}
