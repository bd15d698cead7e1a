package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/creack/pty"
)

func TestCheckConfigCommand(t *testing.T) {
	dir := t.TempDir()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pty: %v", err)
	}
	defer ptmx.Close()
	defer tty.Close()
	ptmx2, tty2, err := pty.Open()
	if err != nil {
		t.Skipf("no pty: %v", err)
	}
	defer ptmx2.Close()
	defer tty2.Close()
	if err := os.WriteFile(filepath.Join(dir, "secret"), []byte("x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	good := `[kiosk]
id = "t"
currency = "EUR"
max_topup = 20
state_dir = "` + dir + `"
[myq]
url = "http://127.0.0.1:8090"
client_id = "k"
client_secret_file = "secret"
[card_reader]
port = "` + tty.Name() + `"
format = "line"
[[acceptor]]
name = "coins"
port = "` + tty.Name() + `x"
protocol = "pulse"
[acceptor.values]
"1" = 0.50
`
	cfg := filepath.Join(dir, "kioskd.toml")
	for _, tc := range []struct {
		name, src string
		code      int
		want      []string
	}{
		{"problems", good, 1, []string{"ok       state directory " + dir + " is writable", "ok       card reader port " + tty.Name(),
			"problem  " + cfg + ":15: [[acceptor]] \"coins\" port: " + tty.Name() + "x does not exist"}},
		{"good", strings.Replace(good, tty.Name()+"x", tty2.Name(), 1), 0, []string{"is good"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.WriteFile(cfg, []byte(tc.src), 0o644); err != nil {
				t.Fatal(err)
			}
			t.Setenv("STATE_DIRECTORY", "")
			t.Setenv("CREDENTIALS_DIRECTORY", "")
			var out, errb bytes.Buffer
			code := run(context.Background(), &env{stdout: &out, stderr: &errb}, []string{"check-config", "--config", cfg})
			if code != tc.code {
				t.Errorf("exit %d, want %d\n%s%s", code, tc.code, out.String(), errb.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
			// The same, with the file as a technician types it.
			var pos bytes.Buffer
			if code := run(context.Background(), &env{stdout: &pos, stderr: &pos}, []string{"check-config", cfg}); code != tc.code || pos.String() != out.String()+errb.String() {
				t.Errorf("check-config FILE: exit %d, want %d\n%s", code, tc.code, pos.String())
			}
		})
	}
	var out, errb bytes.Buffer
	if code := run(context.Background(), &env{stdout: &out, stderr: &errb}, []string{"check-config", "--bogus"}); code != 2 {
		t.Errorf("bad flag: exit %d, want 2", code)
	}
}
