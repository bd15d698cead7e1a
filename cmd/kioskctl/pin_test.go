package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/printroom/voucherkiosk/kiosk/ui"
)

func TestSetPIN(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kioskd", "technician.pin")
	set := func(stdin string, args ...string) (int, string) {
		var out, errb bytes.Buffer
		code := run(context.Background(), &env{stdout: &out, stderr: &errb, stdin: strings.NewReader(stdin)},
			append([]string{"set-pin"}, args...))
		return code, out.String() + errb.String()
	}
	if code, out := set("482913\n", "--file", path); code != 0 {
		t.Fatalf("set-pin: exit %d\n%s", code, out)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "482913") {
		t.Fatal("the PIN is stored in clear")
	}
	if ok, err := ui.CheckPIN(strings.TrimSpace(string(b)), "482913"); err != nil || !ok {
		t.Fatalf("stored hash does not accept the PIN: %v %v", ok, err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("PIN file mode %o, want 600", fi.Mode().Perm())
	}
	if code, _ := set("12\n", "--file", path); code != 1 {
		t.Errorf("a 2-digit PIN: exit %d, want 1", code)
	}
	// Four and five digits fall to a key injector; the stored PIN stays.
	for _, short := range []string{"1234\n", "12345\n"} {
		if code, out := set(short, "--file", path); code != 1 || !strings.Contains(out, "6 to 12 digits") {
			t.Errorf("PIN %q: exit %d, want 1 naming 6 to 12 digits\n%s", short, code, out)
		}
	}
	if b2, _ := os.ReadFile(path); string(b2) != string(b) {
		t.Error("a refused PIN replaced the stored one")
	}
	if code, _ := set("", "--file", path); code != 1 {
		t.Errorf("no PIN: exit %d, want 1", code)
	}
	if code, _ := set("482913\n", "--bogus"); code != 2 {
		t.Errorf("bad flag: exit %d, want 2", code)
	}
}
