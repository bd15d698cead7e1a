package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// everyCommand lists every runnable command of the tree with its path
// below the root ("receipt verify").
func everyCommand(t *testing.T) map[string]*cobra.Command {
	t.Helper()
	root, _ := newRoot(&env{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}})
	out := map[string]*cobra.Command{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if sub.Hidden || sub.Name() == "help" {
				continue
			}
			out[strings.TrimPrefix(sub.CommandPath(), "kioskctl ")] = sub
			walk(sub)
		}
	}
	walk(root)
	return out
}

// A technician at a kiosk has only the help text: --help and -h on every
// subcommand print the help alone, on stdout, and exit 0; so does
// `help COMMAND`. Every help has a usage line, an example and exit codes.
func TestEverySubcommandHelpExitsZero(t *testing.T) {
	cmds := everyCommand(t)
	for _, want := range []string{"check-config", "probe", "simulate", "receipt verify", "journal inspect", "cashbox", "completion bash"} {
		if cmds[want] == nil {
			t.Errorf("no subcommand %q", want)
		}
	}
	if len(cmds) < 15 {
		t.Fatalf("only %d subcommands", len(cmds))
	}
	for path, c := range cmds {
		if c.Short == "" {
			t.Errorf("kioskctl %s: no summary for the overview", path)
		}
		words := strings.Fields(path)
		for _, args := range [][]string{append(words, "--help"), append(words, "-h"), append([]string{"help"}, words...)} {
			var out, errb bytes.Buffer
			code := run(context.Background(), &env{stdout: &out, stderr: &errb, stdin: strings.NewReader("")}, args)
			if code != 0 || errb.Len() != 0 {
				t.Errorf("kioskctl %s: exit %d, stderr %q", strings.Join(args, " "), code, errb.String())
			}
			if !strings.Contains(out.String(), "Usage:") || !strings.Contains(out.String(), "kioskctl "+path) {
				t.Errorf("kioskctl %s: help lacks the usage line:\n%s", strings.Join(args, " "), out.String())
			}
			if strings.Contains(out.String(), "pflag") || strings.Contains(out.String(), "help requested") {
				t.Errorf("kioskctl %s: help shows flag-parser noise:\n%s", strings.Join(args, " "), out.String())
			}
		}
		if !c.Runnable() || c.HasAvailableSubCommands() || strings.HasPrefix(path, "completion") {
			continue // groups list their commands; cobra writes completion's help
		}
		var out bytes.Buffer
		run(context.Background(), &env{stdout: &out, stderr: &out}, append(words, "--help"))
		for _, want := range []string{"Example", "Exit codes"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("kioskctl %s --help lacks %q:\n%s", path, want, out.String())
			}
		}
	}
}

// A wrong command line exits 2 and says how to get help, on stderr.
func TestUsageErrorsExitTwo(t *testing.T) {
	for _, args := range [][]string{
		{"no-such-command"},
		{},
		{"help", "no-such-command"},
		{"check-config", "--bogus"},
		{"check-config", "a.toml", "b.toml"},
		{"receipt"},
		{"receipt", "verify"},
		{"journal", "nope"},
		{"cashup"}, // --by is required
		{"probe", "--port", "/dev/null"},
	} {
		var out, errb bytes.Buffer
		code := run(context.Background(), &env{stdout: &out, stderr: &errb, stdin: strings.NewReader("")}, args)
		if code != 2 || !strings.Contains(errb.String(), "--help' for usage") {
			t.Errorf("kioskctl %s: exit %d, stderr %q", strings.Join(args, " "), code, errb.String())
		}
	}
}

// A command written the older way (register with its own argument parsing)
// still runs under cobra and still answers --help, so work written against it
// merges without change.
func TestLegacyCommandStillRuns(t *testing.T) {
	var got []string
	register(&command{name: "legacy-test", summary: "a test", usage: "Usage: kioskctl legacy-test [--x]",
		run: func(_ context.Context, _ *env, args []string) error { got = args; return nil }})
	register(&command{name: "journal legacy-sub", summary: "a test", usage: "Usage: kioskctl journal legacy-sub",
		run: func(_ context.Context, _ *env, args []string) error {
			got = append([]string{"sub"}, args...)
			return nil
		}})
	t.Cleanup(func() { delete(commands, "legacy-test"); delete(commands, "journal legacy-sub") })

	var out bytes.Buffer
	if code := run(context.Background(), &env{stdout: &out, stderr: &out}, []string{"legacy-test", "--x", "y"}); code != 0 || strings.Join(got, " ") != "--x y" {
		t.Errorf("legacy run: exit %d, args %q, out %q", code, got, out.String())
	}
	if code := run(context.Background(), &env{stdout: &out, stderr: &out}, []string{"journal", "legacy-sub", "z"}); code != 0 || strings.Join(got, " ") != "sub z" {
		t.Errorf("legacy group run: exit %d, args %q, out %q", code, got, out.String())
	}
	out.Reset()
	if code := run(context.Background(), &env{stdout: &out, stderr: &out}, []string{"legacy-test", "--help"}); code != 0 || strings.TrimSpace(out.String()) != "Usage: kioskctl legacy-test [--x]" {
		t.Errorf("legacy --help: exit %d, out %q", code, out.String())
	}
}
