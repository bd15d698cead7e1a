package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/printroom/voucherkiosk/api/myqfake"
)

// apiCheckConfig writes a technician's config pointing at the fake.
func apiCheckConfig(t *testing.T, url, caFile, secret string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "secret"), []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	src := `[kiosk]
id = "lib"
currency = "EUR"
max_topup = 20
state_dir = "` + dir + `"
[myq]
url = "` + url + `"
client_id = "` + myqfake.DemoClientID + `"
client_secret_file = "secret"
ca_file = "` + caFile + `"
request_timeout = "3s"
[card_reader]
port = "/dev/null"
format = "rdm6300"
transform = "right(8)|hex2dec|lpad(10,0)"
[[acceptor]]
name = "coins"
port = "/dev/zero"
protocol = "pulse"
[acceptor.values]
"1" = 0.50
`
	path := filepath.Join(dir, "kioskd.toml")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestAPICheck(t *testing.T) {
	fake := myqfake.NewDemo(myqfake.Options{})
	srv, err := fake.Start(true)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ca, err := srv.WriteCAFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	good := apiCheckConfig(t, srv.URL, ca, myqfake.DemoClientSecret)
	runCheck := func(args ...string) (int, string) {
		var out, errb bytes.Buffer
		code := run(context.Background(), &env{stdout: &out, stderr: &errb}, append([]string{"api-check"}, args...))
		return code, out.String() + errb.String()
	}

	code, out := runCheck("--config", good, "--card", "0008844356")
	if code != 0 || !strings.Contains(out, "belongs to Jane Doe") || !strings.Contains(out, `provider "external"`) ||
		!strings.Contains(out, `vouchers: v3 provider "voucher" takes the code as parameter "code"`) {
		t.Fatalf("good setup: exit %d\n%s", code, out)
	}
	if strings.Contains(out, "0008844356") {
		t.Errorf("the whole card number was printed:\n%s", out)
	}
	// One style with check-config: "ok" and "problem" lines.
	if !strings.Contains(out, "ok       token issued") {
		t.Errorf("passing checks are not 'ok' lines:\n%s", out)
	}
	// The reader's raw output goes through the config's transform chain.
	if code, out := runCheck("--config", good, "--raw", "--card", "100086F444"); code != 0 || !strings.Contains(out, "Jane Doe") {
		t.Fatalf("raw card: exit %d\n%s", code, out)
	}
	if code, out := runCheck("--config", good, "--card", "0000999999"); code != 1 || !strings.Contains(out, "no MyQ user has it") {
		t.Fatalf("unknown card: exit %d\n%s", code, out)
	}
	if !strings.Contains(out, "balance 12.50 sent with the lookup") {
		t.Errorf("balance with the lookup not reported:\n%s", out)
	}
	fake.AddUser(myqfake.User{ID: 4300, Username: "left", Cards: []string{"0000004300"}, Inactive: true})
	if code, out := runCheck("--config", good, "--card", "0000004300"); code != 1 || !strings.Contains(out, "its MyQ account is not active") {
		t.Fatalf("inactive account: exit %d\n%s", code, out)
	}

	// A full name from MyQ is cleaned before it reaches the terminal.
	fake.AddUser(myqfake.User{ID: 4242, Username: "evil", FullName: "Eve\x1b]0;owned\x07 \x1b[2JSmith\u202e\r\n", Cards: []string{"0000004242"}})
	if code, out := runCheck("--config", good, "--card", "0000004242"); code != 0 || !strings.Contains(out, "belongs to Eve Smith (user id 4242)") ||
		strings.ContainsAny(out, "\x1b\x07\r\u202e") {
		t.Fatalf("hostile full name: exit %d\n%q", code, out)
	}

	fake.SetProviderEnabled(false)
	if code, out := runCheck("--config", good); code != 1 || !strings.Contains(out, "enable External Payment Providers") {
		t.Fatalf("provider disabled: exit %d\n%s", code, out)
	}
	fake.SetProviderEnabled(true)

	wrong := apiCheckConfig(t, srv.URL, ca, "not-the-secret")
	if code, out := runCheck("--config", wrong); code != 1 || !strings.Contains(out, "REST API applications") ||
		!strings.Contains(out, "problem  token refused") || !strings.Contains(out, "\n         fix: ") {
		t.Fatalf("wrong secret: exit %d\n%s", code, out)
	}

	fake.AddClient("narrow", "s3cret", "users")
	narrow := apiCheckConfig(t, srv.URL, ca, "s3cret")
	b, _ := os.ReadFile(narrow)
	os.WriteFile(narrow, []byte(strings.Replace(string(b), myqfake.DemoClientID, "narrow", 1)), 0o600)
	if code, out := runCheck("--config", narrow); code != 1 || !strings.Contains(out, "tick the scopes credit and users") {
		t.Fatalf("missing scope: exit %d\n%s", code, out)
	}

	srv.Close()
	if code, out := runCheck("--config", good); code != 1 || !strings.Contains(out, "no answer from MyQ") {
		t.Fatalf("MyQ down: exit %d\n%s", code, out)
	}
}
