package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/printroom/voucherkiosk/kiosk/receipt"
)

// defaultReceiptKeyFile is the config contract's default receipt_key_file.
const defaultReceiptKeyFile = "/etc/kioskd/receipt.key"

func init() { addCommand(newReceiptCmd) }

func newReceiptCmd(e *env) *cobra.Command {
	g := newGroup("receipt", "check a receipt code a student shows you (receipt verify CODE)")
	var keyFile string
	c := &cobra.Command{
		Use:   "verify [--key-file FILE] CODE",
		Short: "check that a receipt code was signed by this kiosk and print what it says",
		Long: `Checks that a receipt code (the text under the QR code on the kiosk screen,
or what a QR scanner reads from it) was signed by this kiosk's receipt key,
and prints what it claims: kiosk, reference, amount and time. Look the
reference up in MyQ (payment description) or with "kioskctl queue".

Quote the code: it contains '|'.`,
		Example: `  kioskctl receipt verify --key-file /etc/kioskd/receipt.key \
    'VK1|library-ground-floor|library-ground-floor/000123|13.50|1700000000|Q2YCQ7M3VJ5ZQK4N6W2ZC3PXAE'`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runReceiptVerify(cmd.Context(), e, keyFile, args[0])
		},
	}
	c.Flags().StringVar(&keyFile, "key-file", defaultReceiptKeyFile, "the receipt HMAC key `FILE` (the config's receipt_key_file); must be mode 0600")
	g.AddCommand(withExitCodes(c, "0 genuine, 1 not genuine (or the key cannot be read), 2 wrong usage."))
	return g
}

func runReceiptVerify(ctx context.Context, e *env, keyFile, code string) error {
	// Only read an existing key: creating one here would make every code
	// look forged.
	key, err := receipt.LoadKey(keyFile)
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
