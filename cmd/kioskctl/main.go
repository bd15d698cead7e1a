// Command kioskctl is the technician's tool: it checks a config and the MyQ
// connection, lists and probes serial ports, simulates devices, serves a fake
// MyQ for rehearsals, and asks a running kioskd about its queue and cash box.
// See docs/ARCHITECTURE.md for where it sits in the house.
//
// Each subcommand lives in its own file and adds itself with addCommand (a
// spf13/cobra command built per run); commands.go has the details.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// env is what a subcommand may touch: no globals.
type env struct {
	stdout, stderr io.Writer
	stdin          io.Reader
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
	root, started := newRoot(e)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return 0
	}
	name := "kioskctl"
	if cmd != nil {
		name = cmd.CommandPath()
	}
	// An error before any subcommand ran is cobra refusing the command
	// line (unknown command or flag, wrong number of arguments): usage.
	if errors.Is(err, errUsage) || !*started {
		msg := err.Error()
		if errors.Is(err, errUsage) {
			msg = usageMessage(err)
		}
		fmt.Fprintf(e.stderr, "%s: %s\nRun '%s --help' for usage.\n", name, msg, name)
		return 2
	}
	fmt.Fprintf(e.stderr, "%s: %v\n", name, err)
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return 1
}

// usageMessage drops the "usage: " marker errUsage puts in front.
func usageMessage(err error) string {
	msg := err.Error()
	rest, _ := strings.CutPrefix(msg, errUsage.Error()+": ")
	return rest
}
