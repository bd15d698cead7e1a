package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/printroom/voucherkiosk/kiosk/receipt"
)

func TestReceiptVerify(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "receipt.key")
	key, err := receipt.LoadOrCreateKey(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Unix(1700000000, 0)
	good := receipt.Sign(key, "lib", "lib/000123", 1350, at)
	forged := strings.Replace(good, "|13.50|", "|93.50|", 1)
	otherKey := receipt.Sign([]byte("some other kiosk fleet's key!!!!"), "lib", "lib/000123", 1350, at)

	cases := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  []string
	}{
		{"genuine", []string{"receipt", "verify", "--key-file", keyFile, good}, 0,
			[]string{"GENUINE", "kiosk:     lib", "reference: lib/000123", "amount:    13.50", "2023-11-14T22:13:20Z"}},
		{"forged amount", []string{"receipt", "verify", "--key-file=" + keyFile, forged}, 1, []string{"NOT GENUINE", "signature"}},
		{"other key", []string{"receipt", "verify", "--key-file", keyFile, otherKey}, 1, []string{"NOT GENUINE"}},
		{"garbage", []string{"receipt", "verify", "--key-file", keyFile, "hello"}, 1, []string{"not a valid receipt code"}},
		{"missing key", []string{"receipt", "verify", "--key-file", keyFile + ".nope", good}, 1, nil},
		{"no code", []string{"receipt", "verify", "--key-file", keyFile}, 2, nil},
		{"no subcommand", []string{"receipt"}, 2, nil},
		{"help", []string{"help", "receipt", "verify"}, 0, []string{"Example:", "kioskctl receipt verify"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(context.Background(), &env{stdout: &out, stderr: &errb, stdin: strings.NewReader("")}, c.args)
			if code != c.wantCode {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, c.wantCode, out.String(), errb.String())
			}
			for _, w := range c.wantOut {
				if !strings.Contains(out.String(), w) {
					t.Errorf("stdout lacks %q:\n%s", w, out.String())
				}
			}
		})
	}
}

func TestReceiptVerifyRefusesReadableKey(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "receipt.key")
	key, err := receipt.LoadOrCreateKey(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(keyFile, 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	code := run(context.Background(), &env{stdout: &out, stderr: &errb}, []string{"receipt", "verify", "--key-file", keyFile, receipt.Sign(key, "a", "a/1", 1, time.Unix(1, 0))})
	if code != 1 || !strings.Contains(errb.String(), "chmod 600") {
		t.Errorf("exit %d, stderr %q: want a refusal of a world-readable key", code, errb.String())
	}
}
