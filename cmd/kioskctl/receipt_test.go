package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/printroom/voucherkiosk/kiosk/journal"
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

// writeKioskConfig writes a config whose state directory is dir and whose
// acceptors are a pulse coin slot "coins" (20 pulses = 2.00, 5 = 0.50,
// 1 = 0.10) and a note reader "notes" (channel 1 = 5.00, 2 = 10.00).
func writeKioskConfig(t *testing.T, dir string) string {
	t.Helper()
	cfg := filepath.Join(dir, "kioskd.toml")
	src := `[kiosk]
id = "lib"
currency = "EUR"
max_topup = 50
state_dir = "` + dir + `"
[myq]
url = "https://127.0.0.1:8090"
client_id = "k"
client_secret_file = "secret-not-read-here"
[card_reader]
port = "/dev/null"
format = "line"
[[acceptor]]
name = "coins"
port = "/dev/kiosk-test-coins"
protocol = "pulse"
[acceptor.values]
"1" = 0.10
"5" = 0.50
"20" = 2.00
[[acceptor]]
name = "notes"
port = "/dev/kiosk-test-notes"
protocol = "essp"
[acceptor.values]
"1" = 5.00
"2" = 10.00
`
	if err := os.WriteFile(cfg, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// On a standard install the key is <state_dir>/receipt.key: verify finds it
// through the config, and says what became of each reference from the
// journal: committed, pending, needs attention, or not there.
func TestReceiptVerifyFromConfigSaysStatus(t *testing.T) {
	dir := t.TempDir()
	cfg := writeKioskConfig(t, dir)
	key, err := receipt.LoadOrCreateKey(filepath.Join(dir, "receipt.key"))
	if err != nil {
		t.Fatal(err)
	}
	j, err := journal.Open(journal.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	session := func(id, ref string, end ...journal.Record) []journal.Record {
		return append([]journal.Record{
			journal.New(journal.KindSessionOpen, id, now, journal.SessionOpen{Card: "0012345678", UserID: 7}),
			journal.New(journal.KindCredit, id, now, journal.Credit{Device: "coins", Key: "20", Amount: 200, Counter: 1}),
			journal.New(journal.KindFinish, id, now, journal.Finish{Total: 200, Reference: ref, UserID: 7, Card: "0012345678"}),
			journal.New(journal.KindPaymentCreated, id, now, journal.PaymentCreated{PaymentID: "pay-" + id, UserID: 7}),
		}, end...)
	}
	for _, batch := range [][]journal.Record{
		session("a", "lib/000001", journal.New(journal.KindCommitted, "a", now, journal.Committed{PaymentID: "pay-a"})),
		session("b", "lib/000002"),
		session("c", "lib/000003", journal.New(journal.KindAttention, "c", now, journal.Attention{Reason: "user 7 not found in MyQ"})),
	} {
		if _, err := j.Append(batch...); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	for ref, want := range map[string]string{
		"lib/000001": "committed in MyQ",
		"lib/000002": "pending: saved, not yet booked",
		"lib/000003": "NEEDS ATTENTION: user 7 not found in MyQ",
		"lib/000099": "not in this kiosk's journal",
	} {
		code := receipt.SignText(key, "lib", ref, "EUR", 200, now)
		c, out, errOut := runCtl("receipt", "verify", "--config", cfg, "--socket-dir", dir, code)
		if c != 0 || !strings.Contains(out, "GENUINE") || !strings.Contains(out, "status:    "+want) {
			t.Errorf("%s: exit %d, want status %q\n%s%s", ref, c, want, out, errOut)
		}
	}
}

// A code typed from a photo of the screen (the labelled form the QR code
// holds), in lower case, with 0 for O and 1 for I or L in the signature, is
// read as meant; a real forgery is not.
func TestReceiptVerifyTypedFromPhoto(t *testing.T) {
	dir := t.TempDir()
	cfg := writeKioskConfig(t, dir)
	key, err := receipt.LoadOrCreateKey(filepath.Join(dir, "receipt.key"))
	if err != nil {
		t.Fatal(err)
	}
	// Find a code whose signature holds an O and an I or L, as a photo of
	// one would.
	var code string
	for i := 0; ; i++ {
		code = receipt.SignText(key, "lib", fmt.Sprintf("lib/%06d", i), "EUR", 850, time.Unix(1700000000, 0))
		sig := code[strings.LastIndexByte(code, ' ')+1:]
		if strings.ContainsRune(sig, 'O') && strings.ContainsAny(sig, "IL") {
			break
		}
	}
	typed := strings.NewReplacer("O", "0", "I", "1", "L", "1").Replace(strings.ToLower(code))
	c, out, errOut := runCtl("receipt", "verify", "--config", cfg, "--socket-dir", dir, typed)
	if c != 0 || !strings.Contains(out, "GENUINE") || !strings.Contains(out, "amount:    8.50 EUR") {
		t.Fatalf("typed %q: exit %d\n%s%s", typed, c, out, errOut)
	}
	forged := strings.Replace(typed, " 8.50 ", " 9.50 ", 1)
	if c, out, _ := runCtl("receipt", "verify", "--config", cfg, "--socket-dir", dir, forged); c != 1 || !strings.Contains(out, "NOT GENUINE") {
		t.Errorf("forged typed code: exit %d\n%s", c, out)
	}
}

// A receipt's vouchers are payments of their own (<reference>/v1, ...):
// verify says where each stands, and a voucher-only top-up is not reported
// as missing from the journal.
func TestReceiptVerifySaysVoucherStatus(t *testing.T) {
	dir := t.TempDir()
	cfg := writeKioskConfig(t, dir)
	key, err := receipt.LoadOrCreateKey(filepath.Join(dir, "receipt.key"))
	if err != nil {
		t.Fatal(err)
	}
	j, err := journal.Open(journal.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	ref := "lib/000004"
	v1, v2 := ref+"/v1", ref+"/v2"
	if _, err := j.Append(
		journal.New(journal.KindSessionOpen, "d", now, journal.SessionOpen{Card: "0012345678", UserID: 7}),
		journal.New(journal.KindVoucherSeen, "d", now, journal.VoucherSeen{Reference: v1, UserID: 7, Masked: journal.MaskVoucher("MYQ5-7Q3K-4821")}),
		journal.New(journal.KindVoucherCreated, "d", now, journal.VoucherPayment{Reference: v1, PaymentID: "vp-1", Amount: 500}),
		journal.New(journal.KindVoucherConfirmed, "d", now, journal.VoucherRef{Reference: v1}),
		journal.New(journal.KindVoucherCommitted, "d", now, journal.VoucherPayment{Reference: v1, PaymentID: "vp-1", Amount: 500}),
		journal.New(journal.KindVoucherSeen, "d", now, journal.VoucherSeen{Reference: v2, UserID: 7, Masked: journal.MaskVoucher("MYQ5-AAAA-9999")}),
		journal.New(journal.KindVoucherCreated, "d", now, journal.VoucherPayment{Reference: v2, PaymentID: "vp-2", Amount: 1000}),
		journal.New(journal.KindVoucherConfirmed, "d", now, journal.VoucherRef{Reference: v2}),
	); err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	code := receipt.SignText(key, "lib", ref, "EUR", 1500, now)
	c, out, errOut := runCtl("receipt", "verify", "--config", cfg, "--socket-dir", dir, code)
	if c != 0 || !strings.Contains(out, "GENUINE") {
		t.Fatalf("exit %d\n%s%s", c, out, errOut)
	}
	for _, want := range []string{"no cash in this top-up", "4821 5.00 EUR: committed in MyQ, payment vp-1", "9999 10.00 EUR: confirmed by the student; kioskd commits it"} {
		if !strings.Contains(out, want) {
			t.Errorf("verify lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "not in this kiosk's journal") {
		t.Errorf("a voucher-only top-up reads as missing:\n%s", out)
	}
}
