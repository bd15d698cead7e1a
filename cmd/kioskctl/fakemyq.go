package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/spf13/cobra"

	"github.com/printroom/voucherkiosk/api"
	"github.com/printroom/voucherkiosk/api/myqfake"
)

func init() { addCommand(newFakeMyQCmd) }

type fakeMyQOptions struct {
	listen, usersFile, caOut string
	useTLS, verbose          bool
}

func newFakeMyQCmd(e *env) *cobra.Command {
	var o fakeMyQOptions
	c := &cobra.Command{
		Use:   "fake-myq [--listen ADDR] [--users FILE] [--tls] [--ca-out FILE] [--verbose]",
		Short: "serve a fake MyQ X server with demo users, for rehearsals",
		Long: `Serves an in-memory MyQ X REST API (token, users, accounts, recharge
providers, payments, vouchers) that behaves like the real server, until
Ctrl-C. It prints the demo voucher codes it accepts. Point a
kiosk's [myq] section at the printed URL and client id/secret. Every commit is
kept in memory only: stopping the fake forgets all balances.

Users file (TOML; balance is a decimal string, cards are matched exactly as
written, i.e. after the kiosk's card transform):
  [[user]]
  id        = 1176
  username  = "jdoe"
  full_name = "Jane Doe"
  email     = "jdoe@example.edu"
  cards     = ["0008844356"]
  balance   = "12.50"`,
		Example: `  kioskctl fake-myq --tls --ca-out /tmp/myq-ca.pem
  # then in kioskd.toml: url = "<printed URL>", ca_file = "/tmp/myq-ca.pem"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runFakeMyQ(cmd.Context(), e, o) },
	}
	f := c.Flags()
	f.StringVar(&o.listen, "listen", "127.0.0.1:8090", "`ADDR` to listen on; a loopback address unless you really mean to expose a fake")
	f.StringVar(&o.usersFile, "users", "", "users `FILE` to serve instead of the demo users (TOML, see above)")
	f.BoolVar(&o.useTLS, "tls", false, "serve https with a freshly generated CA, written to --ca-out")
	f.StringVar(&o.caOut, "ca-out", "", "where to write the CA certificate (PEM) with --tls (default: a new temporary directory)")
	f.BoolVar(&o.verbose, "verbose", false, "log every request")
	_ = c.MarkFlagFilename("users", "toml")
	return withExitCodes(c, "0 stopped by a signal, 1 cannot listen or bad users file, 2 wrong usage.")
}

func runFakeMyQ(ctx context.Context, e *env, o fakeMyQOptions) error {
	if o.caOut != "" && !o.useTLS {
		return fmt.Errorf("%w: --ca-out needs --tls", errUsage)
	}
	users := myqfake.DemoUsers()
	if o.usersFile != "" {
		var err error
		if users, err = loadFakeMyQUsers(o.usersFile); err != nil {
			return err
		}
	}
	level := slog.LevelInfo
	if o.verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level}))
	fake := myqfake.New(myqfake.Options{Addr: o.listen, Log: log})
	fake.AddClient(myqfake.DemoClientID, myqfake.DemoClientSecret, myqfake.DemoScope)
	for _, u := range users {
		fake.AddUser(u)
	}
	vouchers := myqfake.DemoVouchers(time.Now())
	fake.AddVouchers(vouchers...)
	run, err := fake.Start(o.useTLS)
	if err != nil {
		return err
	}
	defer run.Close()

	w := e.stdout
	fmt.Fprintf(w, "fake MyQ X serving at %s\n", run.URL)
	fmt.Fprintf(w, "  client id:     %s\n  client secret: %s\n  scope:         %s\n", myqfake.DemoClientID, myqfake.DemoClientSecret, myqfake.DemoScope)
	if o.useTLS {
		path := o.caOut
		if path == "" {
			dir, err := os.MkdirTemp("", "fake-myq-")
			if err != nil {
				return fmt.Errorf("fake-myq: CA directory: %w", err)
			}
			path, err = run.WriteCAFile(dir)
			if err != nil {
				return err
			}
		} else if err := os.WriteFile(path, run.CAPEM, 0o644); err != nil {
			return fmt.Errorf("fake-myq: write CA: %w", err)
		}
		fmt.Fprintf(w, "  CA file:       %s\n", path)
	}
	fmt.Fprintln(w, "\nUsers (name, username, card, balance):")
	for _, u := range users {
		fmt.Fprintf(w, "  %-22s %-10s %-12s %s\n", u.FullName, u.Username, strings.Join(u.Cards, ","), u.Balance)
	}
	fmt.Fprintln(w, "\nVoucher codes (v2 /v2/payments/voucher, v3 provider \"voucher\" with param \"code\"):")
	for _, v := range vouchers {
		state := "valid until " + v.Expires.Format("2006-01-02")
		switch {
		case v.Used:
			state = "already used"
		case v.Expires.Before(time.Now()):
			state = "expired"
		}
		fmt.Fprintf(w, "  %-18s %8s  %s\n", v.Code, v.Value, state)
	}
	fmt.Fprintln(w, "\nCtrl-C stops the fake (and forgets everything).")
	<-ctx.Done()
	if err := fake.Check(); err != nil {
		fmt.Fprintf(e.stderr, "fake-myq: ledger check failed: %v\n", err)
	}
	fmt.Fprintf(w, "stopped after %d commits\n", len(fake.Ledger()))
	return nil
}

type fakeMyQUsersFile struct {
	User []struct {
		ID       int64    `toml:"id"`
		Username string   `toml:"username"`
		FullName string   `toml:"full_name"`
		Email    string   `toml:"email"`
		Cards    []string `toml:"cards"`
		Balance  string   `toml:"balance"`
	} `toml:"user"`
}

// loadFakeMyQUsers reads and validates a users file: unknown keys, duplicate
// ids, usernames or cards are errors.
func loadFakeMyQUsers(path string) ([]myqfake.User, error) {
	var f fakeMyQUsersFile
	md, err := toml.DecodeFile(path, &f)
	if err != nil {
		return nil, fmt.Errorf("fake-myq: users file %s: %w", path, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return nil, fmt.Errorf("fake-myq: users file %s: unknown key %q", path, und[0].String())
	}
	if len(f.User) == 0 {
		return nil, fmt.Errorf("fake-myq: users file %s: no [[user]] entries", filepath.Base(path))
	}
	ids, names, cards := map[int64]bool{}, map[string]bool{}, map[string]bool{}
	var out []myqfake.User
	var errs []error
	for i, u := range f.User {
		where := fmt.Sprintf("fake-myq: users file %s: user %d", path, i+1)
		if u.ID <= 0 || ids[u.ID] {
			errs = append(errs, fmt.Errorf("%s: id %d missing, not positive or duplicate", where, u.ID))
		}
		if u.Username == "" || names[strings.ToLower(u.Username)] {
			errs = append(errs, fmt.Errorf("%s: username %q missing or duplicate", where, u.Username))
		}
		ids[u.ID], names[strings.ToLower(u.Username)] = true, true
		for _, c := range u.Cards {
			if c == "" || cards[c] {
				errs = append(errs, fmt.Errorf("%s: card %q empty or used twice", where, c))
			}
			cards[c] = true
		}
		var bal api.Money
		if u.Balance != "" {
			neg := strings.HasPrefix(u.Balance, "-")
			b, err := api.ParseMoney(strings.TrimPrefix(u.Balance, "-"))
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: balance: %w", where, err))
			}
			if bal = b; neg {
				bal = -b
			}
		}
		name := u.FullName
		if name == "" {
			name = u.Username
		}
		out = append(out, myqfake.User{ID: u.ID, Username: u.Username, FullName: name, Email: u.Email, Cards: u.Cards, Balance: bal})
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}
