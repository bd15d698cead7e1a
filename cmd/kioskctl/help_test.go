package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// A technician at a kiosk has only the help text: every subcommand shows a
// usage line, an example and its exit codes, and `help COMMAND` prints it.
func TestEverySubcommandHasHelp(t *testing.T) {
	if len(commands) < 15 {
		t.Fatalf("only %d subcommands registered", len(commands))
	}
	for name, c := range commands {
		for _, want := range []string{"Usage: kioskctl " + name, "Example", "Exit codes"} {
			if !strings.Contains(c.usage, want) {
				t.Errorf("kioskctl %s: help lacks %q", name, want)
			}
		}
		if c.summary == "" {
			t.Errorf("kioskctl %s: no summary for the overview", name)
		}
		var out bytes.Buffer
		if code := run(context.Background(), &env{stdout: &out, stderr: &out}, []string{"help", name}); code != 0 || !strings.Contains(out.String(), "Usage:") {
			t.Errorf("kioskctl help %s: exit %d\n%s", name, code, out.String())
		}
	}
	var out bytes.Buffer
	if code := run(context.Background(), &env{stdout: &out, stderr: &out}, []string{"no-such-command"}); code != 2 || !strings.Contains(out.String(), "unknown command") {
		t.Errorf("unknown command: exit %d\n%s", code, out.String())
	}
}
