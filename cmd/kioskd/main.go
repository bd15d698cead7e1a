// Command kioskd is the Voucher Kiosk daemon: it reads the config, opens the
// card reader and acceptors, replays the journal, runs the session engine,
// the booking queue and the full-screen UI on the console, and answers the
// technician's tool on its control socket.
//
// Usage:
//
//	kioskd --config /etc/kioskd/kioskd.toml
//	kioskd --check-config --config FILE
//	kioskd --demo
//
// See docs/ARCHITECTURE.md for the packages it wires together.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/printroom/voucherkiosk/cmd/internal/clidoc"
	"github.com/printroom/voucherkiosk/kiosk/config"
	"github.com/printroom/voucherkiosk/kiosk/console"
	"github.com/printroom/voucherkiosk/kiosk/statedir"
)

// version is stamped at build time: -ldflags "-X main.version=1.2.3".
var version = "dev"

func main() {
	// SIGTERM and SIGINT (systemd's stop, a technician's kill) end the run
	// cleanly; on the kiosk's own terminal Ctrl-C is just a key the UI
	// ignores, because the screen runs the tty in raw mode.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	// A hangup of the console (TTYVHangup) must not kill a kiosk holding money.
	signal.Ignore(syscall.SIGHUP)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			if ee.err != nil {
				fmt.Fprintln(os.Stderr, "kioskd:", ee.err)
			}
			if ee.code == 2 {
				fmt.Fprintln(os.Stderr, "Run 'kioskd --help' for usage.")
			}
			os.Exit(ee.code)
		}
		fmt.Fprintln(os.Stderr, "kioskd:", err)
		os.Exit(1)
	}
}

// exitError carries an exit code (2: usage, 1: failure).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

type options struct {
	configPath  string
	checkConfig bool
	demo        bool
	logLevel    string
	allowRoot   bool
	// lockVT and unlockVT name a console to lock or unlock, then exit:
	// the unit's privileged ExecStartPre=+ and ExecStopPost=+ helpers.
	lockVT, unlockVT string
}

// newRoot is kioskd's command line; its help and the kioskd(8) man page
// come from it. do runs the daemon with the parsed options.
func newRoot(stdout, stderr io.Writer, do func(ctx context.Context, o options) error) *cobra.Command {
	var o options
	root := &cobra.Command{
		Use:   "kioskd [flags]",
		Short: "the Voucher Kiosk daemon: self-service MyQ X credit top-up",
		Long: `kioskd runs the print-credit top-up kiosk: it reads the config, opens the card
reader and the coin and note acceptors on serial ports, replays its money
journal, runs the full-screen student UI on the console, books every top-up
to MyQ X exactly once (keeping an offline queue when MyQ is unreachable), and
answers kioskctl on its control socket. It normally runs as the systemd
service kioskd.service on tty1; kioskctl(8) is the technician's tool.`,
		Example: `  kioskd --config /etc/kioskd/kioskd.toml
  kioskd --check-config /etc/kioskd/kioskd.toml
  kioskd --demo`,
		Version: version,
		// kioskd --check-config FILE, as a technician types it.
		Args:              cobra.MaximumNArgs(1),
		SilenceErrors:     true,
		SilenceUsage:      true,
		DisableAutoGenTag: true,
	}
	f := root.Flags()
	f.StringVar(&o.configPath, "config", config.DefaultPath, "the kiosk config `FILE`")
	f.BoolVar(&o.checkConfig, "check-config", false, "check the config and the machine around it, then exit (0: good)")
	f.BoolVar(&o.demo, "demo", false, "run on the embedded demo: fake MyQ, simulated card reader, coins and notes")
	f.StringVar(&o.logLevel, "log-level", "info", "`LEVEL`: debug, info, warn or error")
	f.BoolVar(&o.allowRoot, "allow-root", false, "run as root (refused otherwise, except with --demo)")
	f.StringVar(&o.lockVT, "lock-vt", "", "lock console switching on this `TTY`, turn blanking off, and exit (root; the unit's ExecStartPre=+)")
	f.StringVar(&o.unlockVT, "unlock-vt", "", "unlock console switching on this `TTY` and exit (root; the unit's ExecStopPost=+)")
	_ = f.MarkHidden("lock-vt")
	_ = f.MarkHidden("unlock-vt")
	_ = root.MarkFlagFilename("config", "toml")
	clidoc.WithExitCodes(root, "0 stopped by systemd or a signal (or --check-config found no problem), "+
		"1 the config or the machine is wrong or the kiosk failed, 2 wrong usage.")
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetUsageFunc(clidoc.Usage)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &exitError{code: 2, err: err} })
	// packaging/build.sh writes kioskd(8) with --gen-docs DIR; a flag, not
	// a subcommand, so kioskd keeps no subcommands.
	var docs string
	f.StringVar(&docs, "gen-docs", "", "write the man page into `DIR`, for packaging")
	_ = f.MarkHidden("gen-docs")
	root.RunE = func(cmd *cobra.Command, args []string) error {
		if docs != "" {
			return clidoc.Generate(cmd, docs, version, false)
		}
		if len(args) == 1 {
			switch {
			case !o.checkConfig:
				return &exitError{code: 2, err: fmt.Errorf("unexpected argument %q; give the config with --config FILE", args[0])}
			case cmd.Flags().Changed("config") && args[0] != o.configPath:
				return &exitError{code: 2, err: errors.New("give the config either as FILE or with --config, not both")}
			}
			o.configPath = args[0]
		}
		return do(cmd.Context(), o)
	}
	return root
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(s))); err != nil {
		return 0, fmt.Errorf("--log-level %q: want debug, info, warn or error", s)
	}
	return l, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	ran := false
	root := newRoot(stdout, stderr, func(ctx context.Context, o options) error {
		ran = true
		return runOptions(ctx, o, stdout, stderr)
	})
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	var ee *exitError
	if err != nil && !ran && !errors.As(err, &ee) {
		// cobra refused the command line (an unexpected argument).
		return &exitError{code: 2, err: err}
	}
	return err
}

func runOptions(ctx context.Context, o options, stdout, stderr io.Writer) error {
	switch {
	case o.lockVT != "":
		if err := console.Lock(o.lockVT); err != nil {
			return &exitError{code: 1, err: err}
		}
		fmt.Fprintf(stdout, "console switching locked, blanking off on %s\n", o.lockVT)
		return nil
	case o.unlockVT != "":
		if err := console.Unlock(o.unlockVT); err != nil {
			return &exitError{code: 1, err: err}
		}
		fmt.Fprintf(stdout, "console switching unlocked on %s\n", o.unlockVT)
		return nil
	}
	level, err := parseLevel(o.logLevel)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	if o.checkConfig {
		return checkConfig(o.configPath, stdout)
	}
	if o.demo {
		return runDemo(ctx, level, stderr)
	}
	cfg, err := config.Load(o.configPath)
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	if err := statedir.CheckUser(os.Geteuid(), o.demo, o.allowRoot); err != nil {
		return &exitError{code: 1, err: err}
	}
	return runDaemon(ctx, daemonOptions{cfg: cfg, level: level, stderr: stderr})
}

func checkConfig(path string, stdout io.Writer) error {
	checked, problems := config.CheckFile(path, config.CheckOptions{})
	clidoc.PrintChecks(stdout, checked, problems)
	if len(problems) > 0 {
		return &exitError{code: 1, err: fmt.Errorf("%d problem(s) in %s; fix them and run the check again", len(problems), path)}
	}
	fmt.Fprintf(stdout, "%s is good (%d checks)\n", path, len(checked))
	return nil
}
