package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"

	"github.com/printroom/voucherkiosk/kiosk/control"
)

// Subcommands that ask a running kioskd over its control socket.

const socketHelp = `  --socket-dir DIR   where kioskd's control socket is (default: /run/kioskd if it
                     exists, else /var/lib/kioskd; the daemon uses $RUNTIME_DIRECTORY)`

func defaultSocketDir() string {
	for _, d := range []string{os.Getenv("RUNTIME_DIRECTORY"), "/run/kioskd", os.Getenv("STATE_DIRECTORY"), "/var/lib/kioskd"} {
		if d == "" {
			continue
		}
		if _, err := os.Stat(d); err == nil {
			return d
		}
	}
	return "/run/kioskd"
}

// daemonFlags parses the flags every socket command shares.
func daemonFlags(name string, args []string, extra func(*pflag.FlagSet)) (*control.Client, *pflag.FlagSet, error) {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dir := fs.String("socket-dir", defaultSocketDir(), "")
	if extra != nil {
		extra(fs)
	}
	if err := fs.Parse(args); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	return control.Dial(*dir), fs, nil
}

func money(minor int64, currency string) string {
	sign := ""
	if minor < 0 {
		sign, minor = "-", -minor
	}
	return fmt.Sprintf("%s%d.%02d %s", sign, minor/100, minor%100, currency)
}

func init() {
	register(&command{
		name:    "status",
		summary: "what the running kiosk is doing: screen, MyQ, queue, devices",
		usage: `Usage: kioskctl status [--socket-dir DIR]

Asks the running kioskd for its state: the screen it shows, whether MyQ answers,
the booking queue and every device's last status.

` + socketHelp + `

Example:
  sudo kioskctl status

Exit codes: 0 answered, 1 kioskd not running or not answering, 2 wrong usage.`,
		run: func(ctx context.Context, e *env, args []string) error {
			c, _, err := daemonFlags("status", args, nil)
			if err != nil {
				return err
			}
			st, err := c.Status(ctx)
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintf(w, "kiosk\t%s (kioskd %s, up since %s)\n", st.KioskID, st.Version, st.Started.Format(time.RFC3339))
			screen := st.Phase
			if st.Reason != "" {
				screen += ": " + st.Reason
			}
			fmt.Fprintf(w, "screen\t%s\n", screen)
			online := "answering"
			if !st.Online {
				online = "NOT answering (top-ups are saved and booked later)"
			}
			fmt.Fprintf(w, "MyQ\t%s\n", online)
			q := fmt.Sprintf("%d pending, %d need attention", st.Pending, st.Attention)
			if st.Oldest != nil {
				q += fmt.Sprintf(", oldest %s ago", time.Since(*st.Oldest).Round(time.Second))
			}
			fmt.Fprintf(w, "queue\t%s\n", q)
			if st.LastError != "" {
				fmt.Fprintf(w, "last error\t%s\n", st.LastError)
			}
			if st.Unclaimed > 0 {
				fmt.Fprintf(w, "unclaimed cash\t%s\n", money(st.Unclaimed, st.Currency))
			}
			names := make([]string, 0, len(st.Devices))
			for n := range st.Devices {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, n := range names {
				d := st.Devices[n]
				line := d.Status
				if d.Detail != "" {
					line += " (" + d.Detail + ")"
				}
				fmt.Fprintf(w, "device %s\t%s since %s\n", n, line, d.Since.Format("15:04:05"))
			}
			return w.Flush()
		},
	})
	register(&command{
		name:    "queue",
		summary: "top-ups waiting to be booked, and those that need attention",
		usage: `Usage: kioskctl queue [--socket-dir DIR]

Lists every finished top-up that is not yet committed in MyQ, oldest first,
with its reference (on the student's receipt), amount, MyQ payment id and, for
those that need attention, why. "Needs attention" means MyQ refused it for a
reason retrying will not fix quickly (unknown user, External Payment Providers
disabled, missing rights): fix the cause in MyQ's web UI, then 'kioskctl flush'.
The money is kept either way; nothing is dropped.

` + socketHelp + `

Example:
  sudo kioskctl queue

Exit codes: 0 listed, 1 kioskd not running, 2 wrong usage.`,
		run: func(ctx context.Context, e *env, args []string) error {
			c, _, err := daemonFlags("queue", args, nil)
			if err != nil {
				return err
			}
			items, err := c.Queue(ctx)
			if err != nil {
				return err
			}
			if len(items) == 0 {
				fmt.Fprintln(e.stdout, "queue empty: every top-up is booked")
				return nil
			}
			w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "FINISHED\tREFERENCE\tAMOUNT\tUSER\tPAYMENT\tSTATE")
			for _, it := range items {
				user := "card " + it.Card
				if it.UserID != 0 {
					user = fmt.Sprint(it.UserID)
				}
				state := "pending"
				if it.Attention != "" {
					state = "NEEDS ATTENTION: " + it.Attention
				}
				pay := it.PaymentID
				if pay == "" {
					pay = "-"
				}
				fmt.Fprintf(w, "%s\t%s\t%d.%02d\t%s\t%s\t%s\n", it.Finished.Format("2006-01-02 15:04"), it.Reference,
					it.Amount/100, it.Amount%100, user, pay, state)
			}
			return w.Flush()
		},
	})
	register(&command{
		name:    "flush",
		summary: "retry every queued top-up now",
		usage: `Usage: kioskctl flush [--socket-dir DIR]

Wakes the booking queue: every pending top-up, including those that need
attention, is retried at once instead of at its next backoff time.

` + socketHelp + `

Example:
  sudo kioskctl flush && sudo kioskctl queue

Exit codes: 0 flush started, 1 kioskd not running, 2 wrong usage.`,
		run: func(ctx context.Context, e *env, args []string) error {
			c, _, err := daemonFlags("flush", args, nil)
			if err != nil {
				return err
			}
			if err := c.Flush(ctx); err != nil {
				return err
			}
			fmt.Fprintln(e.stdout, "flush started; see 'kioskctl queue' in a few seconds")
			return nil
		},
	})
	register(&command{
		name:    "cashbox",
		summary: "cash accepted since the last cash-up, against booked, pending and unclaimed",
		usage: `Usage: kioskctl cashbox [--socket-dir DIR]

Shows the cash the kiosk accepted since the last cash-up by denomination, and
where it went: committed in MyQ, pending in the queue, in a session still open,
or unclaimed (coins inserted with no card). The pieces in the box should match
the denomination counts; 'unrecognised' counts coins that matched no value.
With cashbox_capacity set for an acceptor it shows how full its box is; near
full (cashbox_near_full, 95 % by default) an acceptor that can refuse money
stops taking it until the cash-up.

` + socketHelp + `

Example:
  sudo kioskctl cashbox

Exit codes: 0 shown, 1 kioskd not running, 2 wrong usage.`,
		run: func(ctx context.Context, e *env, args []string) error {
			c, _, err := daemonFlags("cashbox", args, nil)
			if err != nil {
				return err
			}
			cash, err := c.Cash(ctx)
			if err != nil {
				return err
			}
			printCash(e.stdout, cash)
			return nil
		},
	})
	register(&command{
		name:    "cashup",
		summary: "record that the cash box was emptied (totals restart)",
		usage: `Usage: kioskctl cashup --by NAME [--socket-dir DIR]

Records a cash-up in the journal: prints what the box should hold, then the
totals restart from zero. Run it when you empty the cash box. Pending and
unclaimed money stays tracked; it is not forgotten by a cash-up.

  --by NAME          who emptied the box (kept in the journal)
` + socketHelp + `

Example:
  sudo kioskctl cashup --by "J. Novak"

Exit codes: 0 recorded, 1 kioskd not running or refused, 2 wrong usage.`,
		run: func(ctx context.Context, e *env, args []string) error {
			var by *string
			c, _, err := daemonFlags("cashup", args, func(fs *pflag.FlagSet) { by = fs.String("by", "", "") })
			if err != nil {
				return err
			}
			if strings.TrimSpace(*by) == "" {
				return fmt.Errorf("%w: --by NAME is required", errUsage)
			}
			cash, err := c.Cashup(ctx, *by)
			if err != nil {
				return err
			}
			fmt.Fprintln(e.stdout, "cash-up recorded; the box should hold:")
			printCash(e.stdout, cash)
			return nil
		},
	})
}

func printCash(out io.Writer, cash control.Cash) {
	t := cash.Totals
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	if !cash.Since.IsZero() {
		fmt.Fprintf(w, "since\t%s\n", cash.Since.Format(time.RFC3339))
	}
	keys := make([]string, 0, len(t.Pieces))
	for k := range t.Pieces {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "  %s\t%d pieces\n", k, t.Pieces[k])
	}
	fmt.Fprintf(w, "accepted\t%s\n", money(t.Accepted, cash.Currency))
	fmt.Fprintf(w, "  committed in MyQ\t%s\n", money(t.Committed, cash.Currency))
	fmt.Fprintf(w, "  pending in queue\t%s\n", money(t.Pending, cash.Currency))
	fmt.Fprintf(w, "  in an open session\t%s\n", money(t.InSession, cash.Currency))
	fmt.Fprintf(w, "  unclaimed\t%s\n", money(t.Unclaimed, cash.Currency))
	if t.Unrecognised > 0 {
		fmt.Fprintf(w, "unrecognised coins\t%d (in the box, credited to nobody)\n", t.Unrecognised)
	}
	for _, f := range cash.Fill {
		if f.Capacity > 0 {
			warn := ""
			if f.NearFull {
				warn = ", NEAR FULL: empty it, then kioskctl cashup"
			}
			fmt.Fprintf(w, "cash box %s\t%d of %d pieces (%d%%)%s\n", f.Acceptor, f.Pieces, f.Capacity, f.Percent, warn)
		}
	}
	w.Flush()
}
