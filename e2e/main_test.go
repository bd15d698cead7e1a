package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"testing"

	"go.uber.org/goleak"
)

// kioskdBin is the daemon TestMain built for every scenario.
var kioskdBin string

func TestMain(m *testing.M) {
	if _, err := exec.LookPath("tmux"); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: tmux is required (apt-get install tmux; .ci/run installs it)")
		os.Exit(1)
	}
	dir, err := os.MkdirTemp("", "e2e-kioskd-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	kioskdBin, err = BuildKioskd(dir)
	if err != nil {
		os.RemoveAll(dir)
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		os.RemoveAll(dir)
		os.Exit(code)
	}))
}

// newKiosk is New with the binary TestMain built.
func newKiosk(t *testing.T, o Options) *Kiosk {
	t.Helper()
	o.Kioskd = kioskdBin
	return New(t, o)
}
