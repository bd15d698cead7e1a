package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/printroom/voucherkiosk/kiosk/config"
	"github.com/printroom/voucherkiosk/kiosk/control"
	"github.com/printroom/voucherkiosk/kiosk/journal"
)

// `kioskctl cashbox` and `cashup`: what the cash box should hold.

func init() {
	addCommand(func(e *env) *cobra.Command {
		var cfgPath string
		c := daemonCommand(&cobra.Command{
			Use:   "cashbox",
			Short: "cash accepted since the last cash-up, against booked, pending and unclaimed",
			Long: `Shows the cash the kiosk accepted since the last cash-up (when it was and who
did it), by denomination in currency with the pieces that should be in the
box, and where the money went: committed in MyQ, pending in the queue, in a
session still open, or unclaimed (coins inserted with no card).
'unrecognised' counts coins that matched no value: they are in the box but
credited to nobody.

Denominations come from the config's acceptor values: a pulse acceptor's
key 20 is 20 pulses, e.g. one 2.00 coin. With cashbox_capacity set for an
acceptor it shows how full its box is; near full (cashbox_near_full, 95 %
by default) an acceptor that can refuse money stops taking it until the
cash-up.`,
			Example: "  sudo kioskctl cashbox",
		}, "0 shown, 1 kioskd not running, 2 wrong usage.", func(ctx context.Context, c *control.Client, _ []string) error {
			cash, err := c.Cash(ctx)
			if err != nil {
				return err
			}
			box := loadBox(cfgPath)
			printPeriod(e.stdout, cash, box)
			printCashIn(e.stdout, cash, box)
			return nil
		})
		configFlag(c, &cfgPath)
		return c
	})
	addCommand(func(e *env) *cobra.Command {
		var by, cfgPath string
		c := daemonCommand(&cobra.Command{
			Use:   "cashup --by NAME",
			Short: "record that the cash box was emptied (totals restart)",
			Long: `Records a cash-up in the journal, with who did it: prints what the box should
hold, then the totals restart from zero. Run it when you empty the cash box.
Pending and unclaimed money stays tracked; it is not forgotten by a cash-up.`,
			Example: `  sudo kioskctl cashup --by "J. Novak"`,
		}, "0 recorded, 1 kioskd not running or refused, 2 wrong usage.", func(ctx context.Context, c *control.Client, _ []string) error {
			if strings.TrimSpace(by) == "" {
				return fmt.Errorf("%w: --by NAME is required", errUsage)
			}
			cash, err := c.Cashup(ctx, by)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "cash-up by %s recorded; the box should hold:\n", by)
			printCashIn(e.stdout, cash, loadBox(cfgPath))
			return nil
		})
		c.Flags().StringVar(&by, "by", "", "who emptied the box (kept in the journal; at most 64 printable characters)")
		_ = c.MarkFlagRequired("by")
		configFlag(c, &cfgPath)
		return c
	})
}

// box is what the config and journal say about the cash box. Either part
// may be missing (no readable config or journal): the report says so.
type box struct {
	denoms  map[string]denomination // "<acceptor>:<key>"
	cfgErr  error
	lastUp  *journal.Record // the last cash-up, nil if none
	lastBy  string
	first   time.Time // the journal's oldest record kept
	jourErr error
}

// denomination is one piece the acceptor takes: a coin or a note of amount.
type denomination struct {
	kind   string // "coin" or "note"
	amount int64
}

func loadBox(cfgPath string) box {
	var b box
	cfg, err := config.LoadPublic(cfgPath)
	if err != nil {
		b.cfgErr = err
		return b
	}
	b.denoms = map[string]denomination{}
	for _, a := range cfg.Acceptors {
		kind := "coin"
		if a.Protocol == config.ProtocolESSP {
			kind = "note"
		}
		for k, v := range a.Values {
			b.denoms[a.Name+":"+k] = denomination{kind: kind, amount: v}
		}
	}
	rep, err := journal.Inspect(journal.OSFS(), cfg.Kiosk.StateDir)
	if err != nil {
		b.jourErr = err
		return b
	}
	for i := range rep.Records {
		r := &rep.Records[i]
		if b.first.IsZero() {
			b.first = r.Time
		}
		if r.Kind == journal.KindCashup {
			var d journal.Cashup
			if r.Decode(&d) == nil {
				b.lastUp, b.lastBy = r, d.By
			}
		}
	}
	return b
}

func printPeriod(out io.Writer, cash control.Cash, b box) {
	const layout = "2006-01-02 15:04"
	switch {
	case b.lastUp != nil:
		by := b.lastBy
		if by == "" {
			by = "nobody named"
		}
		fmt.Fprintf(out, "period since the last cash-up, %s by %s\n", b.lastUp.Time.Local().Format(layout), by)
	case !cash.Since.IsZero():
		fmt.Fprintf(out, "period since %s\n", cash.Since.Local().Format(layout))
	case b.jourErr != nil:
		fmt.Fprintf(out, "period unknown: cannot read the journal (%v); run with sudo\n", b.jourErr)
	case b.cfgErr != nil:
		fmt.Fprintln(out, "period unknown: the config cannot be read (--config FILE)")
	case !b.first.IsZero():
		fmt.Fprintf(out, "period no cash-up recorded yet; counting since the journal's oldest record, %s\n", b.first.Local().Format(layout))
	default:
		fmt.Fprintln(out, "period no cash-up recorded yet, and the journal is empty")
	}
}

// printCash prints the cash box with no config at hand: denominations by
// their raw keys.
func printCash(out io.Writer, cash control.Cash) { printCashIn(out, cash, box{}) }

// printCashIn prints the denominations in currency, coins then notes, each
// smallest first, then where the money went.
func printCashIn(out io.Writer, cash control.Cash, b box) {
	t := cash.Totals
	cur := cash.Currency
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	type line struct {
		d      denomination
		key    string
		pieces int64
		known  bool
	}
	var lines []line
	for k, n := range t.Pieces {
		d, ok := b.denoms[k]
		lines = append(lines, line{d: d, key: k, pieces: n, known: ok})
	}
	sort.Slice(lines, func(i, j int) bool {
		a, c := lines[i], lines[j]
		if a.known != c.known {
			return a.known
		}
		if a.d.kind != c.d.kind {
			return a.d.kind == "coin"
		}
		if a.d.amount != c.d.amount {
			return a.d.amount < c.d.amount
		}
		return a.key < c.key
	})
	if len(lines) > 0 {
		fmt.Fprintln(w, "in the box")
	}
	for _, l := range lines {
		pieces := fmt.Sprintf("%d piece", l.pieces)
		if l.pieces != 1 {
			pieces += "s"
		}
		if !l.known {
			why := "not in the config's acceptor values"
			if b.denoms == nil {
				why = "no config read"
			}
			fmt.Fprintf(w, "  %s\t%s\t\t(%s)\n", l.key, pieces, why)
			continue
		}
		dev, _, _ := strings.Cut(l.key, ":")
		fmt.Fprintf(w, "  %s %s\t%s\t%s\t(%s)\n", l.d.kind, money(l.d.amount, cur), pieces, money(l.d.amount*l.pieces, cur), dev)
	}
	fmt.Fprintf(w, "accepted\t%s\n", money(t.Accepted, cur))
	fmt.Fprintf(w, "  committed in MyQ\t%s\n", money(t.Committed, cur))
	fmt.Fprintf(w, "  pending in queue\t%s\n", money(t.Pending, cur))
	fmt.Fprintf(w, "  in an open session\t%s\n", money(t.InSession, cur))
	fmt.Fprintf(w, "  unclaimed\t%s\n", money(t.Unclaimed, cur))
	if t.Unrecognised > 0 {
		fmt.Fprintf(w, "unrecognised coins\t%d (in the box, credited to nobody)\n", t.Unrecognised)
	}
	printVouchers(w, cash)
	w.Flush()
	for _, f := range cash.Fill {
		if f.Capacity > 0 {
			warn := ""
			if f.NearFull {
				warn = ", NEAR FULL: empty it, then kioskctl cashup"
			}
			fmt.Fprintf(out, "cash box %s: %d of %d pieces (%d%%)%s\n", f.Acceptor, f.Pieces, f.Capacity, f.Percent, warn)
		}
	}
	fmt.Fprintln(out, cash.Equation())
}
