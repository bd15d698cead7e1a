package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/pflag"
)

func init() {
	register(&command{
		name:    "probe",
		summary: "open a card reader or acceptor and print what it sends",
		usage: `Usage: kioskctl probe --port PORT --protocol PROTOCOL [flags]

Opens the device and prints decoded events live until Ctrl-C: for wiring a
kiosk. Card numbers are masked unless --reveal is given.

Flags:
  --port PATH          serial port, e.g. /dev/serial/by-id/usb-...
  --protocol NAME      rdm6300, line, pulse, cctalk or essp
  --baud N             baud rate (default: the protocol's)
  --values K=A,...     pulse count / coin position -> amount, e.g. 1=0.10,5=0.50
  --transform CHAIN    card transform, e.g. "right(8)|hex2dec|lpad(10,0)"
  --reveal             print whole card numbers
  --encrypt, --key HEX essp only: negotiate eSSP encryption with this fixed key
  --trace FILE         also write every byte in and out, timed and decoded, to
                       FILE (new file, mode 600) for a support request; read it
                       with "kioskctl trace decode FILE"

Example: kioskctl probe --port /dev/ttyUSB0 --protocol rdm6300 --transform "right(8)|hex2dec|lpad(10,0)"

Exit codes: 0 stopped with Ctrl-C, 1 the device could not be used, 2 wrong usage.`,
		run: runProbe,
	})
}

func runProbe(ctx context.Context, e *env, args []string) error {
	fs := pflag.NewFlagSet("probe", pflag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var o probeOptions
	var proto, values, transform string
	var reveal bool
	var traceFile string
	fs.StringVar(&o.Port, "port", "", "")
	fs.StringVar(&proto, "protocol", "", "")
	fs.IntVar(&o.Baud, "baud", 0, "")
	fs.StringVar(&values, "values", "", "")
	fs.StringVar(&transform, "transform", "", "")
	fs.BoolVar(&reveal, "reveal", false, "")
	fs.BoolVar(&o.Encrypt, "encrypt", false, "")
	fs.StringVar(&o.KeyHex, "key", "", "")
	fs.StringVar(&traceFile, "trace", "", "")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	t, ok := protocols[proto]
	if !ok || t.probe == nil {
		return fmt.Errorf("%w: --protocol %q unknown; known: %s", errUsage, proto, strings.Join(protocolNames(), ", "))
	}
	if o.Port == "" {
		return fmt.Errorf("%w: --port is required", errUsage)
	}
	if o.Baud < 0 {
		return fmt.Errorf("%w: --baud %d", errUsage, o.Baud)
	}
	vals, err := parseValues(values)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	ctx = withExtras(ctx, deviceExtras{Values: vals, Transform: transform, Reveal: reveal})
	if traceFile != "" {
		tctx, closeTrace, err := startTrace(ctx, traceFile, proto, o.Port, reveal)
		if err != nil {
			return err
		}
		err = t.probe(tctx, e, o)
		if cerr := closeTrace(); err == nil {
			err = cerr
		}
		return err
	}
	return t.probe(ctx, e, o)
}
