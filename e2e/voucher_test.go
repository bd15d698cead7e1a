package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/printroom/voucherkiosk/api/myqfake"
	"github.com/printroom/voucherkiosk/devices/devsim"
	"github.com/printroom/voucherkiosk/kiosk/journal"
)

// withVouchers turns vouchers on for k before it starts: a serial scanner
// simulated on a pty ([voucher_reader]) and a batch of €5.00 vouchers in
// the fake MyQ. It returns the scanner and the codes.
func withVouchers(t *testing.T, k *Kiosk) (*devsim.LineReader, []string) {
	t.Helper()
	sc, err := devsim.NewLineReader(filepath.Join(k.Dir, "dev"))
	if err != nil {
		t.Fatalf("scanner simulator: %v", err)
	}
	t.Cleanup(func() { sc.Close() })
	k.Config += fmt.Sprintf(`
[voucher]
enabled = true
api = "auto"

[voucher_reader]
port = %q
baud = 9600
`, sc.Path())
	if err := os.WriteFile(k.ConfigPath, []byte(k.Config), 0o644); err != nil {
		t.Fatal(err)
	}
	vs := myqfake.VoucherBatch("E2E5", 4, 500, time.Now().Add(24*time.Hour))
	k.Fake.AddVouchers(vs...)
	codes := make([]string, len(vs))
	for i, v := range vs {
		codes[i] = v.Code
	}
	return sc, codes
}

// checkVouchers: MyQ's ledger is clean, each code went at most once and to
// the user who scanned it, and the journal never holds a whole code.
func checkVouchers(t *testing.T, k *Kiosk, uid int64, codes ...string) {
	t.Helper()
	if err := k.Fake.Check(); err != nil { // each code committed at most once
		t.Error(err)
	}
	for _, c := range k.Fake.Ledger() {
		if c.Voucher != "" && c.UserID != uid {
			t.Errorf("voucher %s went to user %d, scanned by %d", c.Voucher, c.UserID, uid)
		}
	}
	recs, err := k.JournalRecords()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		for _, c := range codes {
			if strings.Contains(string(r.Data), c) {
				t.Errorf("journal record %s holds the whole code %s", r.Kind, c)
			}
		}
	}
}

// A student mixes coins and a voucher read by a serial barcode scanner on a
// pty, then tries a used voucher.
func TestVoucherSerialScanner(t *testing.T) {
	t.Parallel()
	k := newKiosk(t, Options{Pulse: true})
	sc, codes := withVouchers(t, k)
	k.StartAndWaitIdle()
	u := Users()[0]
	greet(t, k, u)
	k.WaitScreen("Scan a voucher or type its code (V)")
	k.Coin(50)
	k.WaitTotal(50)
	before := k.Fake.Balance(u.ID)
	if err := sc.TapCard(codes[0]); err != nil {
		t.Fatal(err)
	}
	k.WaitScreen("Voucher worth " + Money(500) + ": Enter to add it, Esc to cancel")
	k.SendKeys("Enter")
	k.WaitScreen("Voucher of " + Money(500) + " added")
	if got := k.Fake.Balance(u.ID) - before; got != 500 {
		t.Fatalf("voucher moved %d, want 500", got)
	}
	// A voucher used before, scanned while "added" is still on screen:
	// refused, with MyQ's words, and no money.
	used := "E2E5-USED-0009"
	k.Fake.AddVouchers(myqfake.Voucher{Code: used, Value: 500, Used: true})
	if err := sc.TapCard(used); err != nil {
		t.Fatal(err)
	}
	k.WaitScreen("This voucher has already been used")
	k.SendKeys("Escape") // hides the refusal; the session goes on
	k.WaitScreen("Scan a voucher or type its code (V)")
	k.SendKeys("Enter")
	// The headline is what reached the account: the coin and the voucher.
	k.WaitCredited(550, "Coins and notes "+Money(50), "Voucher "+Money(500), "Receipt 5.50 EUR")
	k.WaitBooked(map[int64]int64{u.ID: 550})
	recs, err := k.JournalRecords()
	if err != nil {
		t.Fatal(err)
	}
	var committed int
	for _, r := range recs {
		if r.Kind == journal.KindVoucherCommitted {
			committed++
		}
	}
	if committed != 1 {
		t.Errorf("%d voucher commits journaled, want 1", committed)
	}
	checkVouchers(t, k, u.ID, codes...)
}

// A keyboard-wedge scanner types the code and Enter in one burst through
// the terminal: the kiosk reads a code, it does not book the session.
func TestVoucherKeyboardWedge(t *testing.T) {
	t.Parallel()
	k := newKiosk(t, Options{Pulse: true})
	_, codes := withVouchers(t, k)
	k.StartAndWaitIdle()
	u := Users()[1]
	greet(t, k, u)
	k.Coin(100)
	k.WaitTotal(100)
	k.SendKeys("-l", codes[1]+"\r") // one write: the scanner's burst
	k.WaitScreen("Voucher worth " + Money(500))
	if n := len(k.Fake.Ledger()); n != 0 {
		t.Fatalf("the wedge's Enter booked the session: %d commits", n)
	}
	// Esc cancels it: nothing moves, the code stays good.
	k.SendKeys("Escape")
	k.WaitScreen("Scan a voucher or type its code (V)")
	// The student types it by hand: V, the code, Enter, at a person's pace
	// (the pauses are the input here: what tells typing from a scanner).
	const personPace = 150 * time.Millisecond
	k.SendKeys("v")
	k.WaitScreen("Voucher code:")
	for _, r := range codes[1] {
		time.Sleep(personPace)
		k.SendKeys("-l", string(r))
	}
	k.WaitScreen("Voucher code: " + codes[1])
	time.Sleep(personPace)
	k.SendKeys("Enter")
	k.WaitScreen("Voucher worth " + Money(500))
	k.SendKeys("Enter")
	k.WaitScreen("Voucher of " + Money(500) + " added")
	k.SendKeys("Enter") // one Enter finishes, the message on screen or not
	k.WaitCredited(600, "Voucher "+Money(500))
	k.WaitBooked(map[int64]int64{u.ID: 600})
	checkVouchers(t, k, u.ID, codes...)
}

// The lead's walk-through of the demo, on the real binary: a voucher and
// nothing else. The greeting's balance moves with it, one Enter ends the
// session, and the receipt says €5.00 (headline and signed code), not €0.00.
func TestVoucherOnlySession(t *testing.T) {
	t.Parallel()
	k := newKiosk(t, Options{Pulse: true})
	sc, codes := withVouchers(t, k)
	k.StartAndWaitIdle()
	u := Users()[0]
	greet(t, k, u)
	before := k.Fake.Balance(u.ID)
	if err := sc.TapCard(codes[2]); err != nil {
		t.Fatal(err)
	}
	k.WaitScreen("Voucher worth " + Money(500))
	k.SendKeys("Enter")
	k.WaitScreen("Voucher of " + Money(500) + " added")
	k.WaitScreen("Balance: " + Money(int64(before)+500))
	k.WaitScreen("Enter: finish")
	k.SendKeys("Enter")
	k.WaitCredited(500, "Voucher "+Money(500), "Receipt 5.00 EUR", "New balance: "+Money(int64(before)+500))
	if got := k.Fake.Balance(u.ID) - before; got != 500 {
		t.Errorf("balance moved %d, want 500", got)
	}
	checkVouchers(t, k, u.ID, codes...)
}
