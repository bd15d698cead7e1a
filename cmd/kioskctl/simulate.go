package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

func init() { addCommand(newSimulateCmd) }

func newSimulateCmd(e *env) *cobra.Command {
	var o probeOptions
	var proto string
	c := &cobra.Command{
		Use:   "simulate --protocol PROTOCOL [--dir DIR]",
		Short: "run a simulated device on a pty, driven from the keyboard",
		Long: `Starts a simulated device on a pseudo-terminal and prints the port path to
put in a config (a stable symlink DIR/<protocol>; a temp dir without --dir).
Then reads commands from stdin, one a line, e.g.:
  card 1000086F44   (rdm6300)      card 4711   (line)
  coin 5            (pulses or ccTalk position)
  error 14, reset   (cctalk)
  garbage, unplug, plug, quit
Runs until Ctrl-C or end of input.`,
		Example: `  kioskctl simulate --protocol cctalk --dir /tmp/kiosk`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t, ok := protocols[proto]
			if !ok || t.simulate == nil {
				return fmt.Errorf("%w: --protocol %q unknown; known: %s", errUsage, proto, strings.Join(protocolNames(), ", "))
			}
			return t.simulate(cmd.Context(), e, o)
		},
	}
	protocolFlag(c, &proto)
	c.Flags().StringVar(&o.Dir, "dir", "", "`DIR` for the stable port symlink (default: a new temporary directory)")
	c.Flags().BoolVar(&o.Encrypt, "encrypt", false, "essp only: require eSSP encryption")
	c.Flags().StringVar(&o.KeyHex, "key", "", "essp only: the fixed 64-bit eSSP key as 16 hex digits")
	_ = c.MarkFlagDirname("dir")
	return withExitCodes(c, "0 ended, 1 the simulator could not start, 2 wrong usage.")
}
