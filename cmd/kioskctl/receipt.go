package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/printroom/voucherkiosk/kiosk/config"
	"github.com/printroom/voucherkiosk/kiosk/control"
	"github.com/printroom/voucherkiosk/kiosk/journal"
	"github.com/printroom/voucherkiosk/kiosk/receipt"
)

func init() { addCommand(newReceiptCmd) }

type receiptOptions struct {
	config, keyFile, socketDir string
}

func newReceiptCmd(e *env) *cobra.Command {
	g := newGroup("receipt", "check a receipt code a student shows you (receipt verify CODE)")
	var o receiptOptions
	c := &cobra.Command{
		Use:   "verify [--config FILE] [--key-file FILE] CODE",
		Short: "check that a receipt code was signed by this kiosk, and whether it is booked",
		Long: `Checks that a receipt code (the text under the QR code on the kiosk screen,
a photo of it, or what a QR scanner reads from it) was signed by this kiosk's
receipt key, prints what it claims (kiosk, reference, amount, time), and says
whether that top-up is committed in MyQ, pending in the queue, or needs
attention, from the running kioskd's queue and the journal.

The key is the config's receipt_key_file (by default receipt.key in the state
directory); --key-file reads another. A code typed from a photo may be in
lower case and have 0 for O and 1 for I or L: it is read as it was meant.
The older form VK1|kiosk|reference|amount|time|signature is accepted too.

Quote the code: it contains spaces (or '|').`,
		Example: `  sudo kioskctl receipt verify \
    'Receipt 13.50 EUR library-ground-floor/261123-221530-7f3a9c 2026-11-23T22:16:02Z Q2YCQ7M3VJ5ZQK4N'`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runReceiptVerify(cmd.Context(), e, o, args[0]) },
	}
	configFlag(c, &o.config)
	c.Flags().StringVar(&o.keyFile, "key-file", "", "the receipt HMAC key `FILE` instead of the config's receipt_key_file (mode 0600)")
	c.Flags().StringVar(&o.socketDir, "socket-dir", defaultSocketDir(), "`DIR` of kioskd's control socket, for the queue")
	_ = c.MarkFlagDirname("socket-dir")
	g.AddCommand(withExitCodes(c, "0 genuine, 1 not genuine (or the key cannot be read), 2 wrong usage or config."))
	return g
}

func runReceiptVerify(ctx context.Context, e *env, o receiptOptions, code string) error {
	keyFile := o.keyFile
	// The config names the key and the state directory; with --key-file
	// the code can be checked without one, only its status is unknown.
	cfg, err := config.LoadPublic(o.config)
	if err != nil {
		if keyFile == "" {
			return &exitError{code: 2, err: fmt.Errorf("%w (or give --key-file)", err)}
		}
		cfg = nil
	}
	if keyFile == "" {
		keyFile = cfg.Kiosk.ReceiptKeyFile
	}
	// Only read an existing key: creating one here would make every code
	// look forged.
	key, err := receipt.LoadKey(keyFile)
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	// receipt.Verify reads a code typed from a photo as it was meant.
	c, err := receipt.Verify(key, code)
	switch {
	case err == nil:
		fmt.Fprintln(e.stdout, "GENUINE: signed by this kiosk fleet's receipt key")
		fmt.Fprintf(e.stdout, "  kiosk:     %s\n", c.KioskID)
		fmt.Fprintf(e.stdout, "  reference: %s\n", c.Reference)
		fmt.Fprintf(e.stdout, "  amount:    %s\n", strings.TrimSpace(receipt.FormatAmount(c.Amount)+" "+c.Currency))
		fmt.Fprintf(e.stdout, "  time:      %s (%s)\n", c.At.Local().Format("2006-01-02 15:04:05 MST"), c.At.UTC().Format(time.RFC3339))
		if !strings.HasPrefix(c.Reference, c.KioskID+"/") {
			fmt.Fprintln(e.stdout, "  note:      the reference does not start with the kiosk id")
		}
		fmt.Fprintf(e.stdout, "  status:    %s\n", referenceStatus(ctx, cfg, o.socketDir, c))
		return nil
	case errors.Is(err, receipt.ErrBadSignature):
		fmt.Fprintln(e.stdout, "NOT GENUINE: the signature does not match (altered, forged, mistyped, or signed with another key)")
	default:
		fmt.Fprintln(e.stdout, "NOT GENUINE: this is not a valid receipt code")
	}
	return &exitError{code: 1, err: err}
}

// referenceStatus says what became of the top-up behind a genuine code:
// the running kioskd's queue first (it knows the latest attention reason),
// then the journal, read-only, which also remembers recent commits.
func referenceStatus(ctx context.Context, cfg *config.Config, socketDir string, c receipt.Claim) string {
	cash := cashStatus(ctx, cfg, socketDir, c)
	if cfg == nil || (cfg.Kiosk.ID != "" && c.KioskID != cfg.Kiosk.ID) {
		return cash
	}
	rep, err := journal.Inspect(journal.OSFS(), cfg.Kiosk.StateDir)
	if err != nil {
		return cash
	}
	// A receipt's vouchers are payments of their own: <reference>/v1, /v2...
	var vs []string
	for n := 1; ; n++ {
		v, ok := rep.Ledger.Voucher(fmt.Sprintf("%s/v%d", c.Reference, n))
		if !ok {
			break
		}
		vs = append(vs, fmt.Sprintf("voucher %s %s: %s", v.Masked, money(v.Amount, c.Currency), voucherWords(v)))
	}
	if len(vs) == 0 {
		return cash
	}
	if strings.HasPrefix(cash, notInJournal) {
		cash = "no cash in this top-up"
	}
	return cash + "\n             " + strings.Join(vs, "\n             ")
}

// voucherWords says where a voucher of a receipt stands, for a technician.
func voucherWords(v journal.VoucherInfo) string {
	switch v.State {
	case journal.VoucherCommitted:
		return "committed in MyQ, payment " + v.PaymentID
	case journal.VoucherOwed:
		return "confirmed by the student; kioskd commits it (see 'kioskctl queue')"
	case journal.VoucherClosedSt:
		return "not added (cancelled or refused): no money moved"
	}
	return "not confirmed yet: " + v.State.String()
}

const notInJournal = "not in this kiosk's journal"

// cashStatus says what became of the cash behind a genuine code.
func cashStatus(ctx context.Context, cfg *config.Config, socketDir string, c receipt.Claim) string {
	if cfg == nil {
		return "unknown: no readable config to find the state directory"
	}
	if cfg.Kiosk.ID != "" && c.KioskID != cfg.Kiosk.ID {
		return fmt.Sprintf("unknown here: the code is from kiosk %q and this is %q; run this on that kiosk", c.KioskID, cfg.Kiosk.ID)
	}
	qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	items, qerr := control.Dial(socketDir).Queue(qctx)
	cancel()
	for _, it := range items {
		if it.Reference != c.Reference {
			continue
		}
		if it.Attention != "" {
			return "NEEDS ATTENTION: " + it.Attention + "; fix it in MyQ, then 'kioskctl flush'. The money is kept."
		}
		return "pending: saved, not yet booked in MyQ; kioskd retries it (see 'kioskctl queue')"
	}
	rep, err := journal.Inspect(journal.OSFS(), cfg.Kiosk.StateDir)
	if err != nil {
		return fmt.Sprintf("unknown: cannot read the journal (%v); run as root or the kiosk user", err)
	}
	for _, s := range rep.Ledger.Committed(1 << 30) {
		if s.Reference == c.Reference {
			return fmt.Sprintf("committed in MyQ at %s, payment %s", s.At.Local().Format("2006-01-02 15:04:05"), s.PaymentID)
		}
	}
	for _, p := range rep.Ledger.Pending() {
		if p.Finish.Reference != c.Reference {
			continue
		}
		if p.Attention != "" {
			return "NEEDS ATTENTION: " + p.Attention + "; fix it in MyQ, then 'kioskctl flush'. The money is kept."
		}
		s := "pending: saved, not yet booked in MyQ"
		if qerr != nil {
			s += "; kioskd is not answering, it books it when it runs"
		}
		return s
	}
	return notInJournal + ": booked long ago (the journal keeps the last 20 commits; " +
		"find the reference in MyQ's payment descriptions), or the code names another kiosk's reference"
}
