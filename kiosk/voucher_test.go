package kiosk

import (
	"strings"
	"testing"
	"time"

	"github.com/printroom/voucherkiosk/devices"
	"github.com/printroom/voucherkiosk/kiosk/journal"
)

func voucherConfig() Config {
	c := testConfig()
	c.Voucher = VoucherRules{Enabled: true, Pause: time.Minute}
	return c
}

const code = "MYQ5-7Q3K-4821"

// scan reads a code and returns the RedeemVoucher it asks for.
func (h *harness) scan(c string) RedeemVoucher {
	h.t.Helper()
	r, ok := find[RedeemVoucher](h.do(VoucherCode{Code: c, Source: "scanner"}))
	if !ok {
		h.t.Fatalf("scan gave no RedeemVoucher (voucher %+v)", h.st().Voucher)
	}
	return r
}

// offer journals the payment as booking does, then answers Offered.
func (h *harness) offer(r RedeemVoucher, pid string, amount int64) {
	h.t.Helper()
	if _, err := h.tj.j.Append(journal.New(journal.KindVoucherCreated, r.SessionID, h.now, journal.VoucherPayment{Reference: r.Reference, PaymentID: pid, Amount: amount})); err != nil {
		h.t.Fatal(err)
	}
	h.do(VoucherResult{Reference: r.Reference, Outcome: VoucherOutcomeOffered, PaymentID: pid, Amount: amount})
}

func (h *harness) vstep() VoucherStep {
	h.t.Helper()
	v := h.st().Voucher
	if v == nil {
		h.t.Fatal("no voucher view")
	}
	return v.Step
}

func TestVoucherOfferConfirmAndMixWithCoins(t *testing.T) {
	h := newHarness(t, voucherConfig())
	h.open("0012345678", &alice)
	if h.vstep() != VoucherIdle {
		t.Fatalf("session screen does not offer vouchers: %v", h.vstep())
	}
	h.coin(200)
	r := h.scan(code)
	if r.User.ID != alice.ID || r.Code != code || !strings.HasPrefix(r.Reference, "lib/") {
		t.Errorf("redeem = %+v", r)
	}
	seen := h.tj.kinds(journal.KindVoucherSeen)
	if len(seen) != 1 || strings.Contains(string(seen[0].Data), "7Q3K") || !strings.Contains(string(seen[0].Data), "4821") {
		t.Errorf("seen records %v: want one, the code masked but its last 4", seen)
	}
	if h.vstep() != VoucherAsking {
		t.Errorf("step %v, want asking", h.vstep())
	}
	// A second code while one is in progress is ignored.
	if _, ok := find[RedeemVoucher](h.do(VoucherCode{Code: "OTHER-CODE", Source: "keypad"})); ok {
		t.Error("two vouchers at once")
	}
	h.offer(r, "p1", 500)
	if v := h.st().Voucher; v.Step != VoucherOffer || v.Amount != 500 {
		t.Errorf("offer view %+v", v)
	}
	if h.st().Total != 200 {
		t.Errorf("an offer changed the cash total: %d", h.st().Total)
	}
	cmds := h.do(KeyPress{Key: KeyEnter})
	if c, ok := find[CommitVoucher](cmds); !ok || c.Reference != r.Reference {
		t.Fatalf("Enter on the offer: %#v", cmds)
	}
	if _, ok := find[Book](cmds); ok {
		t.Fatal("Enter on the offer booked the session")
	}
	if len(h.tj.kinds(journal.KindVoucherConfirmed)) != 1 {
		t.Error("confirmation not journaled before the commit")
	}
	h.do(VoucherResult{Reference: r.Reference, Outcome: VoucherOutcomeCommitted, Amount: 500})
	if v := h.st().Voucher; v.Step != VoucherAdded || v.Credited != 500 || v.Count != 1 {
		t.Errorf("added view %+v", v)
	}
	h.do(KeyPress{Key: KeyEnter}) // dismisses the message
	h.coin(100)
	cmds = h.do(KeyPress{Key: KeyEnter})
	b, ok := find[Book](cmds)
	if !ok || b.Finish.Total != 300 {
		t.Fatalf("finish: %#v", cmds)
	}
	rc := h.st().Receipt
	if rc == nil || rc.Amount != 300 || len(rc.Vouchers) != 1 || rc.Vouchers[0].Amount != 500 || rc.Vouchers[0].Masked != "**********4821" {
		t.Errorf("receipt %+v", rc)
	}
}

func TestVoucherEscAndWalkAwayCancel(t *testing.T) {
	h := newHarness(t, voucherConfig())
	h.open("0012345678", &alice)
	h.coin(200)
	r := h.scan(code)
	h.offer(r, "p1", 500)
	c, ok := find[CancelVoucher](h.do(KeyPress{Key: KeyEsc}))
	if !ok || c.PaymentID != "p1" {
		t.Fatalf("Esc on the offer: %+v", c)
	}
	if h.st().Phase != PhaseSession || h.vstep() != VoucherIdle || h.st().Total != 200 {
		t.Errorf("after Esc: %v %v %d", h.st().Phase, h.vstep(), h.st().Total)
	}
	// The session's idle finish waits while an offer is on screen; an offer
	// left alone is cancelled (never committed).
	r = h.scan("MYQ5-H2VX-9034")
	h.offer(r, "p2", 500)
	if cmds := h.adv(14 * time.Second); len(cmds) > 0 {
		if _, ok := find[Book](cmds); ok {
			t.Fatal("the session booked itself under an offer")
		}
	}
	cmds := h.adv(2 * time.Second)
	if _, ok := find[CancelVoucher](cmds); !ok {
		t.Fatalf("offer left alone not cancelled: %#v", cmds)
	}
	closed := h.tj.kinds(journal.KindVoucherClosed)
	if len(closed) != 2 {
		t.Errorf("closed records %d, want 2", len(closed))
	}
	if len(h.tj.kinds(journal.KindVoucherConfirmed)) != 0 {
		t.Error("a voucher was confirmed without Enter")
	}
	// A late answer for a voucher no longer on screen is rolled back.
	if c, ok := find[CancelVoucher](h.do(VoucherResult{Reference: "lib/x/v9", Outcome: VoucherOutcomeOffered, PaymentID: "p9", Amount: 500})); !ok || c.PaymentID != "p9" {
		t.Error("a stale offer was not rolled back")
	}
}

func TestVoucherLockoutAfterFiveInvalid(t *testing.T) {
	h := newHarness(t, voucherConfig())
	h.open("0012345678", &alice)
	for i := 0; i < 4; i++ {
		r := h.scan(code)
		h.do(VoucherResult{Reference: r.Reference, Outcome: VoucherOutcomeRefused, Message: "Invalid voucher code."})
		if v := h.st().Voucher; v.Step != VoucherRejected || v.MyQText != "Invalid voucher code." {
			t.Fatalf("refusal %d view %+v", i, v)
		}
		h.do(KeyPress{Key: KeyEsc})
	}
	// The fifth: a string that is not a code counts too, without asking MyQ.
	if _, ok := find[RedeemVoucher](h.do(VoucherCode{Code: "ab", Source: "keyboard"})); ok {
		t.Fatal("a non-code went to MyQ")
	}
	if h.st().Phase == PhaseSession {
		t.Fatal("session still open after 5 invalid codes")
	}
	if len(h.tj.kinds(journal.KindCancel)) != 1 {
		t.Error("the session with no money was not cancelled")
	}
	h.open("0012345678", &alice)
	if _, ok := find[RedeemVoucher](h.do(VoucherCode{Code: code, Source: "scanner"})); ok {
		t.Fatal("vouchers taken during the lockout")
	}
	if v := h.st().Voucher; v.Step != VoucherLocked || v.LockedUntil.Sub(h.now) > time.Minute || v.LockedUntil.IsZero() {
		t.Errorf("locked view %+v", v)
	}
	h.adv(61 * time.Second)
	h.do(KeyPress{Key: KeyEsc})
	h.open("0012345678", &alice)
	// The next lockout is twice as long.
	for i := 0; i < 5; i++ {
		r := h.scan(code)
		h.do(VoucherResult{Reference: r.Reference, Outcome: VoucherOutcomeRefused, Used: true})
		if h.st().Phase != PhaseSession {
			break
		}
		if h.st().Voucher.Reason != VoucherUsed {
			t.Errorf("reason %v, want used", h.st().Voucher.Reason)
		}
		h.do(KeyPress{Key: KeyEsc})
	}
	h.open("0012345678", &alice)
	h.do(VoucherCode{Code: code})
	if got := h.st().Voucher.LockedUntil.Sub(h.now); got != 2*time.Minute {
		t.Errorf("second pause %v, want 2m", got)
	}
}

func TestVoucherNeverOffline(t *testing.T) {
	h := newHarness(t, voucherConfig())
	lc, _ := find[LookupCard](h.do(devices.CardRead{Device: "card", Number: "0012345678"}))
	h.do(LookupResult{SessionID: lc.SessionID, Card: "0012345678", Err: errDisk})
	if h.st().Phase != PhaseSession || !h.st().Offline {
		t.Fatalf("offline session not open: %v", h.st().Phase)
	}
	if _, ok := find[RedeemVoucher](h.do(VoucherCode{Code: code, Source: "scanner"})); ok {
		t.Fatal("a voucher asked for in an offline session")
	}
	if h.vstep() != VoucherNoServer || len(h.tj.kinds(journal.KindVoucherSeen)) != 0 {
		t.Errorf("offline: step %v", h.vstep())
	}
	// MyQ unreachable at redeem time: the same message, nothing taken.
	h2 := newHarness(t, voucherConfig())
	h2.open("0012345678", &alice)
	r := h2.scan(code)
	h2.do(VoucherResult{Reference: r.Reference, Outcome: VoucherOutcomeOffline})
	if h2.vstep() != VoucherNoServer {
		t.Errorf("step %v", h2.vstep())
	}
}

func TestVoucherOnlySessionShowsItsReceipt(t *testing.T) {
	h := newHarness(t, voucherConfig())
	h.open("0012345678", &alice)
	r := h.scan(code)
	h.offer(r, "p1", 500)
	h.do(KeyPress{Key: KeyEnter})
	h.do(VoucherResult{Reference: r.Reference, Outcome: VoucherOutcomeCommitPending, Amount: 500})
	if v := h.st().Voucher; !v.Pending || v.Step != VoucherAdded {
		t.Errorf("pending view %+v", v)
	}
	h.do(KeyPress{Key: KeyEnter}) // dismiss
	cmds := h.do(KeyPress{Key: KeyEnter})
	if _, ok := find[Book](cmds); ok {
		t.Fatal("a voucher-only session was booked as cash")
	}
	st := h.st()
	if st.Phase != PhaseCredited || st.Receipt == nil || st.Receipt.Amount != 0 || len(st.Receipt.Vouchers) != 1 {
		t.Errorf("voucher-only end: %v %+v", st.Phase, st.Receipt)
	}
}

func TestVoucherOffWhenDisabled(t *testing.T) {
	h := newHarness(t, testConfig())
	h.open("0012345678", &alice)
	if h.st().Voucher != nil {
		t.Error("voucher view shown while vouchers are off")
	}
	if cmds := h.do(VoucherCode{Code: code}); len(cmds) > 0 {
		if _, ok := find[RedeemVoucher](cmds); ok {
			t.Error("voucher taken while off")
		}
	}
}

// TestVoucherCrashWindowsAtRestart: a restart between any two voucher steps
// leaves the session's cash to the usual restart rules and the voucher open
// in the journal exactly as far as it got, for booking to resolve (list,
// roll back what the student never confirmed, commit what they did).
func TestVoucherCrashWindowsAtRestart(t *testing.T) {
	steps := []struct {
		name string
		run  func(h *harness, r RedeemVoucher)
		want journal.VoucherState
	}{
		{"seen", func(h *harness, r RedeemVoucher) {}, journal.VoucherAsked},
		{"offered", func(h *harness, r RedeemVoucher) { h.offer(r, "p1", 500) }, journal.VoucherOffered},
		{"confirmed", func(h *harness, r RedeemVoucher) {
			h.offer(r, "p1", 500)
			h.do(KeyPress{Key: KeyEnter})
		}, journal.VoucherOwed},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			h := newHarness(t, voucherConfig())
			h.open("0012345678", &alice)
			h.coin(200)
			r := h.scan(code)
			s.run(h, r)
			cmds := h.restart(voucherConfig())
			b, ok := find[Book](cmds)
			if !ok || b.Finish.Total != 200 || b.Finish.Reason != ReasonRestart {
				t.Fatalf("restart: %#v", cmds)
			}
			l := h.tj.j.Ledger()
			open := l.OpenVouchers()
			if len(open) != 1 || open[0].Reference != r.Reference || open[0].State != s.want {
				t.Errorf("open vouchers after restart %+v, want %s", open, s.want)
			}
			if v := l.Vouchers(); v.Committed != 0 {
				t.Errorf("a voucher counted before MyQ committed it: %+v", v)
			}
			// A late answer for it reaches no screen: an offer is rolled back.
			if c, ok := find[CancelVoucher](h.do(VoucherResult{Reference: r.Reference, Outcome: VoucherOutcomeOffered, PaymentID: "p1", Amount: 500})); !ok || c.PaymentID != "p1" {
				t.Error("a late offer after the restart was not rolled back")
			}
		})
	}
}

// Esc while MyQ is asked, and MyQ's offer arrives after it (the runner
// carries answers asynchronously): the payment MyQ created holds the
// student's code until it is rolled back, so the late offer of the very
// voucher on screen is cancelled too, with its payment id.
func TestVoucherOfferAfterEscWhileAskingIsRolledBack(t *testing.T) {
	h := newHarness(t, voucherConfig())
	h.open("0012345678", &alice)
	r := h.scan(code)
	// Booking journals the payment before the runner hands the answer over.
	if _, err := h.tj.j.Append(journal.New(journal.KindVoucherCreated, r.SessionID, h.now, journal.VoucherPayment{Reference: r.Reference, PaymentID: "p1", Amount: 500})); err != nil {
		t.Fatal(err)
	}
	if c, ok := find[CancelVoucher](h.do(KeyPress{Key: KeyEsc})); !ok || c.PaymentID != "" {
		t.Fatalf("Esc while asking: %+v %v", c, ok)
	}
	c, ok := find[CancelVoucher](h.do(VoucherResult{Reference: r.Reference, Outcome: VoucherOutcomeOffered, PaymentID: "p1", Amount: 500}))
	if !ok || c.Reference != r.Reference || c.PaymentID != "p1" {
		t.Fatalf("late offer of the cancelled voucher not rolled back: %+v %v", c, ok)
	}
	if h.vstep() != VoucherIdle {
		t.Errorf("a cancelled voucher came back on screen: %v", h.vstep())
	}
	if len(h.tj.kinds(journal.KindVoucherConfirmed)) != 0 {
		t.Error("confirmed without Enter")
	}
}
