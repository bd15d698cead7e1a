// Command kioskbench measures the whole kiosk end to end for developers: it
// builds kioskd, runs it on a tmux terminal with simulated devices and a fake
// MyQ, and prints latency, memory, CPU and size figures (docs/BENCHMARKS.md).
// It needs the source tree, a Go toolchain and tmux, so it lives here and not
// in the technician's kioskctl: the .deb does not install it, and nothing it
// imports from e2e reaches a kiosk. See docs/ARCHITECTURE.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/pflag"
)

const usage = `Usage: go run ./cmd/kioskbench [--runs N] [--quick] [--kioskd PATH] [--topups N] [--flush N] [--idle DUR] [-v]

Builds kioskd (unless --kioskd names a binary), runs it on a tmux terminal with
simulated devices and a fake MyQ, and prints a table: each latency is the
median of --runs runs with p95 (nearest rank), min and max, next to its goal.
Screen latencies are read with back-to-back 'tmux capture-pane' calls, so they
are upper bounds with a resolution of one capture (a few ms).

Flags:
`

type env struct{ stdout, stderr io.Writer }

// exitError carries a specific exit code out of runBench.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, &env{stdout: os.Stdout, stderr: os.Stderr}, os.Args[1:])
	stop()
	os.Exit(code)
}

// run returns the exit code: 0 measured, 1 a measurement failed, 2 wrong usage.
func run(ctx context.Context, e *env, args []string) int {
	var o benchOptions
	fs := pflag.NewFlagSet("kioskbench", pflag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.IntVar(&o.runs, "runs", 0, "runs per latency figure (default 20; --quick: 5)")
	fs.BoolVar(&o.quick, "quick", false, "fewer runs and smaller loads: 100 top-ups, 1000 queued payments, 10 s idle")
	fs.StringVar(&o.kioskd, "kioskd", "", "use this kioskd binary instead of building one")
	fs.IntVar(&o.topups, "topups", 0, "top-ups before the RSS figure (default 1000)")
	fs.IntVar(&o.flush, "flush", 0, "queued payments for the flush figure (default 10000)")
	fs.DurationVar(&o.idle, "idle", 0, "idle CPU sampling window (default 30s)")
	fs.BoolVarP(&o.verbose, "verbose", "v", false, "log progress to stderr")
	fs.Usage = func() {
		fmt.Fprint(e.stderr, usage)
		fs.PrintDefaults()
		fmt.Fprintln(e.stderr, "\nExit codes: 0 measured, 1 a measurement failed, 2 wrong usage.")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "kioskbench: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	err := runBench(ctx, e, o)
	if err == nil {
		return 0
	}
	fmt.Fprintln(e.stderr, "kioskbench:", err)
	var ee *exitError
	switch {
	case errors.Is(err, errUsage):
		return 2
	case errors.As(err, &ee):
		return ee.code
	}
	return 1
}
