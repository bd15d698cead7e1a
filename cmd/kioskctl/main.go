// Command kioskctl is the technician's tool: it checks a config and the MyQ
// connection, lists and probes serial ports, simulates devices, serves a fake
// MyQ for rehearsals, and asks a running kioskd about its queue and cash box.
//
// Each subcommand lives in its own file and registers itself in commands.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

// command is one kioskctl subcommand.
type command struct {
	name    string
	summary string // one line for the overview
	// usage is the full help: synopsis, flags, an example, exit codes.
	usage string
	run   func(ctx context.Context, env *env, args []string) error
}

// env is what a subcommand may touch: no globals.
type env struct {
	stdout, stderr io.Writer
	stdin          io.Reader
}

var commands = map[string]*command{}

func register(c *command) {
	if _, dup := commands[c.name]; dup {
		panic("kioskctl: command registered twice: " + c.name)
	}
	commands[c.name] = c
}

// exitError carries a specific exit code out of a subcommand.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// errUsage marks a wrong invocation (exit 2).
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, &env{stdout: os.Stdout, stderr: os.Stderr, stdin: os.Stdin}, os.Args[1:])
	stop()
	os.Exit(code)
}

// run executes one subcommand and returns the process exit code:
// 0 success, 1 the check or operation failed, 2 wrong usage.
func run(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		if len(args) > 1 {
			if c, ok := commands[args[1]]; ok {
				fmt.Fprintln(e.stdout, c.usage)
				return 0
			}
		}
		overview(e.stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(e.stderr, "kioskctl: unknown command %q\n\n", args[0])
		overview(e.stderr)
		return 2
	}
	err := c.run(ctx, e, args[1:])
	if err == nil {
		return 0
	}
	if errors.Is(err, errUsage) {
		fmt.Fprintf(e.stderr, "kioskctl %s: %v\n\n%s\n", c.name, err, c.usage)
		return 2
	}
	fmt.Fprintf(e.stderr, "kioskctl %s: %v\n", c.name, err)
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return 1
}

func overview(w io.Writer) {
	fmt.Fprintln(w, "kioskctl: the Voucher Kiosk technician's tool")
	fmt.Fprintln(w, "\nUsage: kioskctl COMMAND [flags]   (kioskctl help COMMAND for details)")
	fmt.Fprintln(w, "\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-14s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nExit codes: 0 success, 1 the check or operation failed, 2 wrong usage.")
}
