package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return 1
}

func TestFlags(t *testing.T) {
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"--version"}, &out, &errb); err != nil || !strings.HasPrefix(out.String(), "kioskd ") {
		t.Fatalf("--version: %v %q", err, out.String())
	}
	for _, args := range [][]string{{"--bogus"}, {"extra-arg"}, {"--log-level", "loud", "--demo"}} {
		out.Reset()
		errb.Reset()
		if code := exitCode(run(context.Background(), args, &out, &errb)); code != 2 {
			t.Errorf("%v: exit %d, want 2 (usage)", args, code)
		}
	}
}

func TestCheckConfigExitCodes(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret")
	os.WriteFile(secret, []byte("s\n"), 0o600)
	cfg := filepath.Join(dir, "kioskd.toml")
	src := `[kiosk]
id = "t"
currency = "EUR"
max_topup = 20
state_dir = "` + dir + `"
[myq]
url = "http://127.0.0.1:8090"
client_id = "k"
client_secret_file = "secret"
[card_reader]
port = "/dev/null"
format = "line"
[[acceptor]]
name = "coins"
port = "/dev/does-not-exist-kiosk"
protocol = "pulse"
[acceptor.values]
"1" = 0.50
`
	os.WriteFile(cfg, []byte(src), 0o600)
	var out bytes.Buffer
	err := run(context.Background(), []string{"--check-config", "--config", cfg}, &out, &out)
	if exitCode(err) != 1 || !strings.Contains(out.String(), "/dev/does-not-exist-kiosk does not exist") {
		t.Fatalf("missing port: exit %d\n%s", exitCode(err), out.String())
	}
	// A warning reads as one, as in kioskctl check-config.
	os.WriteFile(cfg, []byte(strings.Replace(src, `format = "line"`, "format = \"line\"\ntransform = \"mid(1,1)\"", 1)), 0o600)
	out.Reset()
	run(context.Background(), []string{"--check-config", "--config", cfg}, &out, &out)
	if !strings.Contains(out.String(), "\nwarning  [card_reader] transform uses mid") || strings.Contains(out.String(), "ok       warning") {
		t.Errorf("transform warning:\n%s", out.String())
	}
	os.WriteFile(cfg, []byte(src), 0o600)
	// The file as a technician types it: kioskd --check-config FILE.
	out.Reset()
	err = run(context.Background(), []string{"--check-config", cfg}, &out, &out)
	if exitCode(err) != 1 || !strings.Contains(out.String(), "problem  ") || !strings.Contains(out.String(), "/dev/does-not-exist-kiosk does not exist") {
		t.Fatalf("positional FILE: exit %d\n%s", exitCode(err), out.String())
	}
	// An unknown key is named with its line, and the daemon refuses to start on it.
	os.WriteFile(cfg, []byte(src+"[monitor]\nlisten = \"127.0.0.1:9464\"\nlisen = \"x\"\n"), 0o600)
	out.Reset()
	err = run(context.Background(), []string{"--config", cfg}, &out, &out)
	if exitCode(err) != 1 || !strings.Contains(err.Error(), "lisen") || !strings.Contains(err.Error(), "kioskd.toml:21:") {
		t.Fatalf("unknown key: exit %d, err %v", exitCode(err), err)
	}
}

// --help and -h print the help alone, on stdout, and exit 0.
func TestHelpExitsZero(t *testing.T) {
	for _, arg := range []string{"--help", "-h"} {
		var out, errb bytes.Buffer
		err := run(context.Background(), []string{arg}, &out, &errb)
		if exitCode(err) != 0 || errb.Len() != 0 || !strings.Contains(out.String(), "Usage:") || !strings.Contains(out.String(), "--check-config") {
			t.Errorf("kioskd %s: exit %d, stderr %q\n%s", arg, exitCode(err), errb.String(), out.String())
		}
	}
}

// kioskd(8) is written from the same command as --help.
func TestManPageFromHelp(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"--gen-docs", dir}, &out, &out); err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(filepath.Join(dir, "man8", "kioskd.8"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`.TH "KIOSKD" "8"`, `\fB--check-config\fP`, "Exit codes"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("kioskd.8 lacks %q", want)
		}
	}
}
