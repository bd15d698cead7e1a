package console

import (
	"strings"
	"testing"

	"github.com/creack/pty"
)

// TestRefusesNonConsole: on anything but a virtual console (here a pty, as
// when kioskd runs under ssh or tmux) Lock and Unlock say so clearly and
// write nothing.
func TestRefusesNonConsole(t *testing.T) {
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	defer tty.Close()
	for name, f := range map[string]func(string) error{"Lock": Lock, "Unlock": Unlock} {
		err := f(tty.Name())
		if err == nil || !strings.Contains(err.Error(), "not a Linux virtual console") {
			t.Errorf("%s(%s) = %v", name, tty.Name(), err)
		}
	}
	if err := Lock("/nonexistent/tty1"); err == nil {
		t.Error("Lock of a missing console succeeded")
	}
}
