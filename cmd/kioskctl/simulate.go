package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/pflag"
)

func init() {
	register(&command{
		name:    "simulate",
		summary: "run a simulated device on a pty, driven from the keyboard",
		usage: `Usage: kioskctl simulate --protocol PROTOCOL [--dir DIR]

Starts a simulated device on a pseudo-terminal and prints the port path to
put in a config (a stable symlink DIR/<protocol>; a temp dir without --dir).
Then reads commands from stdin, one a line, e.g.:
  card 1000086F44   (rdm6300)      card 4711   (line)
  coin 5            (pulses or ccTalk position)
  error 14, reset   (cctalk)
  garbage, unplug, plug, quit
Runs until Ctrl-C or end of input.

Example: kioskctl simulate --protocol cctalk --dir /tmp/kiosk

Exit codes: 0 ended, 1 the simulator could not start, 2 wrong usage.`,
		run: runSimulate,
	})
}

func runSimulate(ctx context.Context, e *env, args []string) error {
	fs := pflag.NewFlagSet("simulate", pflag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var o probeOptions
	var proto, dir string
	fs.StringVar(&proto, "protocol", "", "")
	fs.StringVar(&dir, "dir", "", "")
	fs.BoolVar(&o.Encrypt, "encrypt", false, "")
	fs.StringVar(&o.KeyHex, "key", "", "")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	t, ok := protocols[proto]
	if !ok || t.simulate == nil {
		return fmt.Errorf("%w: --protocol %q unknown; known: %s", errUsage, proto, strings.Join(protocolNames(), ", "))
	}
	return t.simulate(withExtras(ctx, deviceExtras{Dir: dir}), e, o)
}
