package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/printroom/voucherkiosk/kiosk/journal"
)

func writeTestJournal(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	j, err := journal.Open(journal.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	for _, batch := range [][]journal.Record{
		{journal.New(journal.KindSessionOpen, "a", now, journal.SessionOpen{Card: "0012345678", UserID: 7})},
		{journal.New(journal.KindCredit, "a", now, journal.Credit{Device: "coins", Key: "10", Amount: 100, Counter: 12})},
		{journal.New(journal.KindFinish, "a", now, journal.Finish{Total: 100, Reference: "lib/a", UserID: 7, Card: "0012345678"})},
		{journal.New(journal.KindPaymentCreated, "a", now, journal.PaymentCreated{PaymentID: "pay-77", UserID: 7})},
		{journal.New(journal.KindAttention, "a", now, journal.Attention{Reason: "provider disabled"})},
		{journal.New(journal.KindUnclaimed, "", now, journal.Credit{Device: "pulse", Key: "5", Amount: 50})},
	} {
		if _, err := j.Append(batch...); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

func runCtl(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), &env{stdout: &out, stderr: &errOut, stdin: strings.NewReader("")}, args)
	return code, out.String(), errOut.String()
}

func TestJournalInspect(t *testing.T) {
	dir := writeTestJournal(t)
	path := filepath.Join(dir, journal.FileName)
	code, out, errOut := runCtl("journal", "inspect", "--state-dir", dir, "--records")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"6 valid records", "lib/a", "pay-77", "NEEDS ATTENTION: provider disabled", "Unclaimed cash: 1",
		"pulse:5", "coins", "12", "******5678", "session_open"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "0012345678") {
		t.Errorf("output shows a whole card number:\n%s", out)
	}

	code, out, _ = runCtl("journal", "inspect", "--state-dir", dir, "--json", "--records")
	var rep map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &rep) != nil || strings.Contains(out, "0012345678") {
		t.Fatalf("json: exit %d, %s", code, out)
	}

	// A torn tail is reported and left alone: a daemon may be running.
	data, _ := os.ReadFile(path)
	torn := data[:len(data)-7]
	os.WriteFile(path, torn, 0o600)
	code, out, _ = runCtl("journal", "inspect", "--state-dir", dir)
	if now, _ := os.ReadFile(path); code != 0 || !strings.Contains(out, "torn last line") || !bytes.Equal(now, torn) {
		t.Errorf("torn: exit %d, changed %v:\n%s", code, !bytes.Equal(now, torn), out)
	}

	// A bad record in the middle: exit 1, line, offset and the bytes.
	bad := append([]byte(nil), data...)
	second := bytes.IndexByte(bad, '\n') + 1
	bad[second+5] = 'X'
	os.WriteFile(path, bad, 0o600)
	code, out, errOut = runCtl("journal", "inspect", "--state-dir", dir)
	if code != 1 || !strings.Contains(out, fmt.Sprintf("BAD RECORD at line 2, byte offset %d", second)) || !strings.Contains(errOut, "line 2") {
		t.Errorf("bad record: exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, `******5678`) || strings.Contains(out, "0012345678") {
		t.Errorf("bytes around the bad record must show masked card numbers only:\n%s", out)
	}
	code, out, _ = runCtl("journal", "inspect", "--state-dir", dir, "--json")
	if code != 1 || !strings.Contains(out, `"line": 2`) || strings.Contains(out, "0012345678") {
		t.Errorf("bad record as json: exit %d\n%s", code, out)
	}

	if code, _, _ := runCtl("journal", "inspect", "--state-dir", t.TempDir()); code != 1 {
		t.Errorf("missing journal: exit %d, want 1", code)
	}
	if code, _, _ := runCtl("journal", "frobnicate"); code != 2 {
		t.Errorf("bad usage: exit %d, want 2", code)
	}
}

// The summary reads as a technician expects: no "user 0" for a user not yet
// known, no "Device counters: 0", and a header over every column.
func TestJournalInspectWording(t *testing.T) {
	dir := t.TempDir()
	j, err := journal.Open(journal.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	for _, batch := range [][]journal.Record{
		{journal.New(journal.KindSessionOpen, "open1", now, journal.SessionOpen{Card: "0012345678"})},
		{journal.New(journal.KindSessionOpen, "p", now, journal.SessionOpen{Card: "0087654321"})},
		{journal.New(journal.KindCredit, "p", now, journal.Credit{Device: "coins", Key: "5", Amount: 50})},
		{journal.New(journal.KindFinish, "p", now, journal.Finish{Total: 50, Reference: "lib/p", Card: "0087654321"})},
	} {
		if _, err := j.Append(batch...); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCtl("journal", "inspect", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, bad := range []string{"user 0", "Device counters: 0"} {
		if strings.Contains(out, bad) {
			t.Errorf("output says %q:\n%s", bad, out)
		}
	}
	for _, want := range []string{"user not yet known", "Device counters: none yet",
		regexpHeader("SESSION", "REFERENCE", "AMOUNT", "USER", "PAYMENT", "STATE")} {
		if !strings.Contains(out, want) && !matches(want, out) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func regexpHeader(cols ...string) string { return "(?m)^  " + strings.Join(cols, " +") + "\\s*$" }

func matches(re, s string) bool {
	ok, _ := regexp.MatchString(re, s)
	return ok
}
