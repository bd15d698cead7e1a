package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/printroom/voucherkiosk/kiosk/config"
)

func init() {
	register(&command{
		name:    "check-config",
		summary: "check the config file, its secrets, files, ports and state directory",
		usage: `Usage: kioskctl check-config [--config FILE]

Reads the kiosk configuration strictly (an unknown key is a problem), checks
every value, then checks the machine around it: the MyQ client secret is
readable and private, the CA file holds certificates, the serial ports exist
and may be opened, the state directory is writable. Prints each check with
"ok" or "problem"; every problem names the file, line and key and says how to
fix it. kioskd --check-config runs the same checks.

Run it as the user the service runs as to see what the service will see:
  sudo -u kiosk kioskctl check-config

Flags:
  --config FILE   the config to check (default ` + config.DefaultPath + `)

Example:
  kioskctl check-config --config /etc/kioskd/kioskd.toml

Exit codes: 0 every check passed, 1 a problem was found, 2 wrong usage.`,
		run: runCheckConfig,
	})
}

func runCheckConfig(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("check-config", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	path := fs.String("config", config.DefaultPath, "config file")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	checked, problems := config.CheckFile(*path, config.CheckOptions{
		Warn: func(msg string) { fmt.Fprintf(e.stdout, "warning  %s\n", msg) }})
	for _, c := range checked {
		fmt.Fprintf(e.stdout, "ok       %s\n", c)
	}
	for _, p := range problems {
		fmt.Fprintf(e.stdout, "problem  %s\n", p.Error())
	}
	if len(problems) > 0 {
		return &exitError{code: 1, err: fmt.Errorf("%d problem(s) in %s; fix them and run check-config again", len(problems), *path)}
	}
	fmt.Fprintf(e.stdout, "%s is good (%d checks)\n", *path, len(checked))
	return nil
}
