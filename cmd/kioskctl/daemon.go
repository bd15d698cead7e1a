package main

import (
	"context"
	"fmt"
	"os"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/printroom/voucherkiosk/kiosk/control"
)

// Subcommands that ask a running kioskd over its control socket.

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

// daemonCommand is a subcommand that asks the running kioskd over its
// control socket: it gets --socket-dir, and run gets the client.
func daemonCommand(c *cobra.Command, exit string, run func(ctx context.Context, cl *control.Client, args []string) error) *cobra.Command {
	var dir string
	c.Flags().StringVar(&dir, "socket-dir", defaultSocketDir(),
		"`DIR` of kioskd's control socket (the daemon's $RUNTIME_DIRECTORY; /run/kioskd, else /var/lib/kioskd)")
	_ = c.MarkFlagDirname("socket-dir")
	if c.Args == nil {
		c.Args = cobra.NoArgs
	}
	c.RunE = func(cmd *cobra.Command, args []string) error {
		return run(cmd.Context(), control.Dial(dir), args)
	}
	return withExitCodes(c, exit)
}

func money(minor int64, currency string) string {
	sign := ""
	if minor < 0 {
		sign, minor = "-", -minor
	}
	return fmt.Sprintf("%s%d.%02d %s", sign, minor/100, minor%100, currency)
}

func init() {
	addCommand(func(e *env) *cobra.Command {
		return daemonCommand(&cobra.Command{
			Use:   "status",
			Short: "what the running kiosk is doing: screen, MyQ, queue, devices",
			Long: `Asks the running kioskd for its state: the screen it shows, whether MyQ answers,
the booking queue and every device's last status.`,
			Example: "  sudo kioskctl status",
		}, "0 answered, 1 kioskd not running or not answering, 2 wrong usage.", func(ctx context.Context, c *control.Client, _ []string) error {
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
		})
	})
	addCommand(func(e *env) *cobra.Command {
		return daemonCommand(&cobra.Command{
			Use:   "queue",
			Short: "top-ups waiting to be booked, and those that need attention",
			Long: `Lists every finished top-up that is not yet committed in MyQ, oldest first,
with its reference (on the student's receipt), amount, MyQ payment id and, for
those that need attention, why. "Needs attention" means MyQ refused it for a
reason retrying will not fix quickly (unknown user, External Payment Providers
disabled, missing rights): fix the cause in MyQ's web UI, then 'kioskctl flush'.
The money is kept either way; nothing is dropped.`,
			Example: "  sudo kioskctl queue",
		}, "0 listed, 1 kioskd not running, 2 wrong usage.", func(ctx context.Context, c *control.Client, _ []string) error {
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
		})
	})
	addCommand(func(e *env) *cobra.Command {
		return daemonCommand(&cobra.Command{
			Use:   "flush",
			Short: "retry every queued top-up now",
			Long: `Wakes the booking queue: every pending top-up, including those that need
attention, is retried at once instead of at its next backoff time.`,
			Example: "  sudo kioskctl flush && sudo kioskctl queue",
		}, "0 flush started, 1 kioskd not running, 2 wrong usage.", func(ctx context.Context, c *control.Client, _ []string) error {
			if err := c.Flush(ctx); err != nil {
				return err
			}
			fmt.Fprintln(e.stdout, "flush started; see 'kioskctl queue' in a few seconds")
			return nil
		})
	})
}
