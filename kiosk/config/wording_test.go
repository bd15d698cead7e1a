package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// What check-config says about the MyQ secret reads as a sentence, and a
// missing secret file comes with how to create it.
func TestSecretFileWording(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "kioskd.toml")
	src := `[kiosk]
id = "t"
currency = "EUR"
max_topup = 20
state_dir = "` + dir + `"
[myq]
url = "https://127.0.0.1:8090"
client_id = "k"
client_secret_file = "secret"
[card_reader]
port = "/dev/null"
format = "line"
[[acceptor]]
name = "coins"
port = "/dev/kiosk-test-none"
protocol = "pulse"
[acceptor.values]
"1" = 0.50
`
	if err := os.WriteFile(cfg, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	_, problems := CheckFile(cfg, CheckOptions{})
	secret := filepath.Join(dir, "secret")
	var found bool
	for _, p := range problems {
		if p.Key == "myq.client_secret_file" {
			found = true
			if msg := p.Error(); !strings.Contains(msg, "create it") || !strings.Contains(msg, "install -m 0600") || !strings.Contains(msg, secret) {
				t.Errorf("missing secret: %s", msg)
			}
		}
	}
	if !found {
		t.Fatalf("no problem for the missing secret file: %v", problems)
	}

	if err := os.WriteFile(secret, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	checked, _ := CheckFile(cfg, CheckOptions{})
	want := "MyQ client secret file " + secret + ": readable, private, 6 characters"
	var ok bool
	for _, c := range checked {
		ok = ok || c == want
		if strings.Contains(c, "secret secret") {
			t.Errorf("check says %q", c)
		}
	}
	if !ok {
		t.Errorf("checks lack %q: %q", want, checked)
	}
}
