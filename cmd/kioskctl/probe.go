package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

func init() { addCommand(newProbeCmd) }

func newProbeCmd(e *env) *cobra.Command {
	var o probeOptions
	var proto, values, traceFile string
	c := &cobra.Command{
		Use:   "probe --port PORT --protocol PROTOCOL [flags]",
		Short: "open a card reader or acceptor and print what it sends",
		Long: `Opens the device and prints decoded events live until Ctrl-C: for wiring a
kiosk. Card numbers are masked unless --reveal is given.`,
		Example: `  kioskctl probe --port /dev/ttyUSB0 --protocol rdm6300 --transform "right(8)|hex2dec|lpad(10,0)"
  kioskctl probe --port /dev/ttyUSB1 --protocol pulse --values 1=0.10,5=0.50,20=2.00`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t, ok := protocols[proto]
			if !ok || t.probe == nil {
				return fmt.Errorf("%w: --protocol %q unknown; known: %s", errUsage, proto, strings.Join(protocolNames(), ", "))
			}
			if o.Baud < 0 {
				return fmt.Errorf("%w: --baud %d", errUsage, o.Baud)
			}
			vals, err := parseValues(values)
			if err != nil {
				return fmt.Errorf("%w: %v", errUsage, err)
			}
			o.Values = vals
			if traceFile != "" {
				closeTrace, err := startTrace(traceFile, proto, &o)
				if err != nil {
					return err
				}
				err = t.probe(cmd.Context(), e, o)
				if cerr := closeTrace(); err == nil {
					err = cerr
				}
				return err
			}
			return t.probe(cmd.Context(), e, o)
		},
	}
	f := c.Flags()
	f.StringVar(&o.Port, "port", "", "serial `PORT`, e.g. /dev/serial/by-id/usb-...")
	protocolFlag(c, &proto)
	f.IntVar(&o.Baud, "baud", 0, "baud rate (default: the protocol's)")
	f.StringVar(&values, "values", "", "`KEY=AMOUNT,...`: pulse count or coin position -> amount, e.g. 1=0.10,5=0.50")
	f.StringVar(&o.Transform, "transform", "", "card transform `CHAIN`, e.g. \"right(8)|hex2dec|lpad(10,0)\"")
	f.BoolVar(&o.Reveal, "reveal", false, "print whole card numbers")
	f.BoolVar(&o.Encrypt, "encrypt", false, "essp only: negotiate eSSP encryption")
	f.StringVar(&o.KeyHex, "key", "", "essp only: the fixed 64-bit eSSP key as 16 hex digits")
	f.StringVar(&traceFile, "trace", "", "also write every byte in and out, timed and decoded, to a new `FILE` (mode 600) for a support request; read it with kioskctl trace decode FILE")
	_ = c.MarkFlagRequired("port")
	_ = c.RegisterFlagCompletionFunc("port", completePorts)
	return withExitCodes(c, "0 stopped with Ctrl-C, 1 the device could not be used, 2 wrong usage.")
}

// protocolFlag adds the required --protocol NAME, completed from the
// registered protocols.
func protocolFlag(c *cobra.Command, proto *string) {
	c.Flags().StringVar(proto, "protocol", "", "`NAME`: "+strings.Join(protocolNames(), ", "))
	_ = c.MarkFlagRequired("protocol")
	_ = c.RegisterFlagCompletionFunc("protocol", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return protocolNames(), cobra.ShellCompDirectiveNoFileComp
	})
}
