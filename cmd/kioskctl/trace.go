package main

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/pflag"

	"github.com/printroom/voucherkiosk/devices"
	"github.com/printroom/voucherkiosk/devices/trace"
)

// `kioskctl trace decode FILE` and the recording side of
// `kioskctl probe --trace FILE`; the logic is in devices/trace.
func init() {
	register(&command{
		name:    "trace",
		summary: "read back a serial trace written by probe --trace",
		usage: `Usage: kioskctl trace decode FILE

Prints a trace written by "kioskctl probe --trace FILE": every read and write
with its time, the bytes and their meaning, decoded again offline.

Example: kioskctl trace decode /tmp/validator.trace

Exit codes: 0 decoded, 1 the file is not a readable trace, 2 wrong usage.`,
		run: runTrace,
	})
}

func runTrace(ctx context.Context, e *env, args []string) error {
	fs := pflag.NewFlagSet("trace", pflag.ContinueOnError)
	fs.SetOutput(e.stderr)
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() != 2 || fs.Arg(0) != "decode" {
		return fmt.Errorf("%w: want: trace decode FILE", errUsage)
	}
	f, err := os.Open(fs.Arg(1))
	if err != nil {
		return err
	}
	defer f.Close()
	return trace.Decode(f, e.stdout)
}

type traceKey struct{}

// startTrace creates the trace file for probe --trace and returns the
// context that carries its recording OpenFunc, and a closer.
func startTrace(ctx context.Context, path, protocol, port string, reveal bool) (context.Context, func() error, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("trace file: %w", err)
	}
	rec, err := trace.NewRecorder(f, trace.Options{Protocol: protocol, Port: port, Reveal: reveal})
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	closer := func() error {
		if err := rec.Err(); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	return context.WithValue(ctx, traceKey{}, rec.Open(nil)), closer, nil
}

// traceOpen is the probe's port opener: recording under --trace, else nil
// (the real serial port).
func traceOpen(ctx context.Context) devices.OpenFunc {
	open, _ := ctx.Value(traceKey{}).(devices.OpenFunc)
	return open
}
