package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/creack/pty"

	"github.com/printroom/voucherkiosk/configs"
	"github.com/printroom/voucherkiosk/kiosk/config"
)

// TestRefusesRoot: as root, kioskd refuses to start without --allow-root.
func TestRefusesRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the refusal is of root")
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "secret"), []byte("s\n"), 0o600)
	cfg := filepath.Join(dir, "kioskd.toml")
	os.WriteFile(cfg, []byte(`[kiosk]
id = "t"
currency = "EUR"
max_topup = 20
state_dir = "`+dir+`"
[myq]
url = "http://127.0.0.1:8090"
client_id = "k"
client_secret_file = "secret"
[card_reader]
port = "/dev/null"
format = "line"
[[acceptor]]
name = "coins"
port = "/dev/zero"
protocol = "pulse"
[acceptor.values]
"1" = 0.50
`), 0o600)
	var out bytes.Buffer
	err := run(context.Background(), []string{"--config", cfg}, &out, &out)
	if exitCode(err) != 1 || !strings.Contains(err.Error(), "--allow-root") {
		t.Fatalf("as root without --allow-root: exit %d, %v", exitCode(err), err)
	}
}

// TestLogFileNotThroughLink: a link planted as kioskd.log does not get the
// daemon's log lines appended to its target.
func TestLogFileNotThroughLink(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	os.WriteFile(victim, []byte("precious\n"), 0o600)
	os.Symlink(victim, filepath.Join(dir, "kioskd.log"))
	// newLogger writes to the file only when stderr is a terminal.
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	defer tty.Close()
	log, closeLog, err := newLogger(tty, slog.LevelInfo, dir, true)
	if err == nil {
		log.Info("hello")
		closeLog()
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious\n" {
		t.Fatalf("log appended to the link's target: %q", b)
	}
}

// TestStateDirOpenToOthersRefused: the daemon refuses a state directory
// others may read.
func TestStateDirOpenToOthersRefused(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	os.Mkdir(dir, 0o755)
	os.Chmod(dir, 0o755)
	cfg := demoConfigForTest(t, dir)
	err := runDaemon(context.Background(), daemonOptions{cfg: cfg, stderr: &bytes.Buffer{}})
	if err == nil || !strings.Contains(err.Error(), "chmod 700") {
		t.Fatalf("runDaemon on a 0755 state dir: %v", err)
	}
}

func demoConfigForTest(t *testing.T, stateDir string) *config.Config {
	t.Helper()
	cfg, err := config.Parse(configs.Demo, "demo.toml")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Kiosk.StateDir = stateDir
	return cfg
}

// TestLockVTHelper: the unit's ExecStartPre=+ helper mode exits 1 with a
// clear message on a console that is not a VT, and is not in --help.
func TestLockVTHelper(t *testing.T) {
	var out bytes.Buffer
	for _, flag := range []string{"--lock-vt", "--unlock-vt"} {
		err := run(context.Background(), []string{flag, "/dev/null"}, &out, &out)
		if exitCode(err) != 1 || !strings.Contains(err.Error(), "not a Linux virtual console") {
			t.Errorf("%s /dev/null: exit %d, %v", flag, exitCode(err), err)
		}
	}
	out.Reset()
	run(context.Background(), []string{"--help"}, &out, &out)
	if strings.Contains(out.String(), "lock-vt") {
		t.Errorf("--help shows the unit's helper flags:\n%s", out.String())
	}
}
