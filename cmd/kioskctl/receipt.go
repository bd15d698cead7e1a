package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/printroom/voucherkiosk/kiosk/receipt"
)

// defaultReceiptKeyFile is the config contract's default receipt_key_file.
const defaultReceiptKeyFile = "/etc/kioskd/receipt.key"

func init() {
	register(&command{
		name:    "receipt",
		summary: "check a receipt code a student shows you (receipt verify CODE)",
		usage: `Usage: kioskctl receipt verify [--key-file FILE] CODE

Checks that a receipt code (the text under the QR code on the kiosk screen,
or what a QR scanner reads from it) was signed by this kiosk's receipt key,
and prints what it claims: kiosk, reference, amount and time. Look the
reference up in MyQ (payment description) or with "kioskctl queue".

Flags:
  --key-file FILE   the receipt HMAC key (default ` + defaultReceiptKeyFile + `,
                    the config's receipt_key_file); must be mode 0600

Example:
  kioskctl receipt verify --key-file /etc/kioskd/receipt.key \
    'VK1|library-ground-floor|library-ground-floor/000123|13.50|1700000000|Q2YCQ7M3VJ5ZQK4N6W2ZC3PXAE'

Quote the code: it contains '|'.

Exit codes: 0 genuine, 1 not genuine (or the key cannot be read), 2 wrong usage.`,
		run: runReceipt,
	})
}

func runReceipt(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] != "verify" {
		return fmt.Errorf("%w: want the subcommand verify", errUsage)
	}
	fs := pflag.NewFlagSet("receipt verify", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	keyFile := fs.String("key-file", defaultReceiptKeyFile, "receipt HMAC key")
	if err := fs.Parse(args[1:]); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: want exactly one CODE (quote it), got %d arguments", errUsage, fs.NArg())
	}
	code := fs.Arg(0)
	// Only read an existing key: creating one here would make every code
	// look forged.
	key, err := receipt.LoadKey(*keyFile)
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	c, err := receipt.Verify(key, code)
	switch {
	case err == nil:
		fmt.Fprintln(e.stdout, "GENUINE: signed by this kiosk fleet's receipt key")
		fmt.Fprintf(e.stdout, "  kiosk:     %s\n", c.KioskID)
		fmt.Fprintf(e.stdout, "  reference: %s\n", c.Reference)
		fmt.Fprintf(e.stdout, "  amount:    %s\n", receipt.FormatAmount(c.Amount))
		fmt.Fprintf(e.stdout, "  time:      %s (%s)\n", c.At.Local().Format("2006-01-02 15:04:05 MST"), c.At.UTC().Format(time.RFC3339))
		if !strings.HasPrefix(c.Reference, c.KioskID+"/") {
			fmt.Fprintln(e.stdout, "  note:      the reference does not start with the kiosk id")
		}
		return nil
	case errors.Is(err, receipt.ErrBadSignature):
		fmt.Fprintln(e.stdout, "NOT GENUINE: the signature does not match (altered, forged, or signed with another key)")
	default:
		fmt.Fprintln(e.stdout, "NOT GENUINE: this is not a valid receipt code")
	}
	return &exitError{code: 1, err: err}
}
