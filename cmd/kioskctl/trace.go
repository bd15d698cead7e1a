package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/printroom/voucherkiosk/devices/trace"
)

// `kioskctl trace decode FILE` and the recording side of
// `kioskctl probe --trace FILE`; the logic is in devices/trace.
func init() { addCommand(newTraceCmd) }

func newTraceCmd(e *env) *cobra.Command {
	g := newGroup("trace", "read back a serial trace written by probe --trace (trace decode)")
	c := &cobra.Command{
		Use:   "decode FILE",
		Short: "print a serial trace: every byte in and out, timed and decoded",
		Long: `Prints a trace written by "kioskctl probe --trace FILE": every read and write
with its time, the bytes and their meaning, decoded again offline. Card
readers' bytes are in a trace only if the probe ran with --reveal.`,
		Example: `  kioskctl trace decode /tmp/validator.trace`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			return trace.Decode(f, e.stdout)
		},
	}
	g.AddCommand(withExitCodes(c, "0 decoded, 1 the file is not a readable trace, 2 wrong usage."))
	return g
}

// startTrace creates the trace file for probe --trace (a new file, mode
// 600: it may go to a support request) and sets o.Open to record through
// it. The returned func closes it and reports a write error.
func startTrace(path, protocol string, o *probeOptions) (func() error, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("trace file: %w", err)
	}
	rec, err := trace.NewRecorder(f, trace.Options{Protocol: protocol, Port: o.Port, Reveal: o.Reveal})
	if err != nil {
		f.Close()
		os.Remove(path)
		return nil, err
	}
	o.Open = rec.Open(o.Open)
	return func() error {
		if err := rec.Err(); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}, nil
}
