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

	"github.com/spf13/pflag"

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
	version     bool
	logLevel    string
	allowRoot   bool
	// lockVT and unlockVT name a console to lock or unlock, then exit:
	// the unit's privileged ExecStartPre=+ and ExecStopPost=+ helpers.
	lockVT, unlockVT string
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := pflag.NewFlagSet("kioskd", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.configPath, "config", config.DefaultPath, "the kiosk config file")
	fs.BoolVar(&o.checkConfig, "check-config", false, "check the config and the machine around it, then exit (0: good)")
	fs.BoolVar(&o.demo, "demo", false, "run on the embedded demo: fake MyQ, simulated card reader, coins and notes")
	fs.BoolVar(&o.version, "version", false, "print the version and exit")
	fs.StringVar(&o.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.BoolVar(&o.allowRoot, "allow-root", false, "run as root (refused otherwise, except with --demo)")
	fs.StringVar(&o.lockVT, "lock-vt", "", "lock console switching on this console, turn blanking off, and exit (root; the unit's ExecStartPre=+)")
	fs.StringVar(&o.unlockVT, "unlock-vt", "", "unlock console switching and exit (root; the unit's ExecStopPost=+)")
	fs.MarkHidden("lock-vt")
	fs.MarkHidden("unlock-vt")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: kioskd [--config FILE] [--check-config] [--demo] [--version] [--log-level LEVEL] [--allow-root]\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return o, &exitError{code: 0}
		}
		return o, &exitError{code: 2, err: err}
	}
	if fs.NArg() > 0 {
		return o, &exitError{code: 2, err: fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	return o, nil
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(s))); err != nil {
		return 0, fmt.Errorf("--log-level %q: want debug, info, warn or error", s)
	}
	return l, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	if o.version {
		fmt.Fprintln(stdout, "kioskd", version)
		return nil
	}
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
	for _, c := range checked {
		fmt.Fprintln(stdout, "ok     ", c)
	}
	for _, p := range problems {
		fmt.Fprintln(stdout, "PROBLEM", p.Error())
	}
	if len(problems) > 0 {
		return &exitError{code: 1, err: fmt.Errorf("%s: %d problem(s)", path, len(problems))}
	}
	fmt.Fprintf(stdout, "%s is good\n", path)
	return nil
}
