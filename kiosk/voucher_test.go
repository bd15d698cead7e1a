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
	h.do(KeyPress{Key: KeyMore}) // hides the message
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
	cmds := h.do(KeyPress{Key: KeyEnter}) // one Enter, message or not

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

// addVoucher scans code, confirms the offer and answers the commit with out.
func (h *harness) addVoucher(c string, amount int64, out VoucherOutcome) {
	h.t.Helper()
	r := h.scan(c)
	h.offer(r, "p-"+c, amount)
	if _, ok := find[CommitVoucher](h.do(KeyPress{Key: KeyEnter})); !ok {
		h.t.Fatal("Enter on the offer asked for no commit")
	}
	h.do(VoucherResult{Reference: r.Reference, Outcome: out, Amount: amount})
	if h.vstep() != VoucherAdded {
		h.t.Fatalf("step %v after the commit, want added", h.vstep())
	}
}

// The lead's bug: with "Voucher of €5.00 added" on screen the first Enter
// only hid the message; the student had to press Enter twice.
func TestVoucherOneEnterFinishesAfterAdded(t *testing.T) {
	h := newHarness(t, voucherConfig())
	h.open("0012345678", &alice)
	h.addVoucher(code, 500, VoucherOutcomeCommitted)
	h.do(KeyPress{Key: KeyEnter})
	st := h.st()
	if st.Phase != PhaseCredited || st.Receipt == nil || len(st.Receipt.Vouchers) != 1 {
		t.Fatalf("one Enter after a voucher: phase %v receipt %+v, want the receipt", st.Phase, st.Receipt)
	}

	// With cash too: the same single Enter books the cash.
	h2 := newHarness(t, voucherConfig())
	h2.open("0012345678", &alice)
	h2.coin(200)
	h2.addVoucher(code, 500, VoucherOutcomeCommitted)
	b, ok := find[Book](h2.do(KeyPress{Key: KeyEnter}))
	if !ok || b.Finish.Total != 200 {
		t.Fatalf("one Enter after a voucher with €2.00 in: %#v", h2.last)
	}
	// Another key on the message only hides it, and the session goes on.
	h3 := newHarness(t, voucherConfig())
	h3.open("0012345678", &alice)
	h3.addVoucher(code, 500, VoucherOutcomeCommitted)
	h3.do(KeyPress{Key: KeyMore})
	if h3.st().Phase != PhaseSession || h3.vstep() != VoucherIdle {
		t.Errorf("a key other than Enter: phase %v step %v", h3.st().Phase, h3.vstep())
	}
	// Enter on a refusal with nothing in: nothing to add, the session stays.
	h4 := newHarness(t, voucherConfig())
	h4.open("0012345678", &alice)
	r := h4.scan(code)
	h4.do(VoucherResult{Reference: r.Reference, Outcome: VoucherOutcomeRefused, Used: true})
	h4.do(KeyPress{Key: KeyEnter})
	if h4.st().Phase != PhaseSession || h4.vstep() != VoucherIdle {
		t.Errorf("Enter on a refusal with nothing in: phase %v step %v", h4.st().Phase, h4.vstep())
	}
}

// The lead's bug: a session with only a €5.00 voucher ended on "€0.00 added
// to your account". The receipt's Added is what reached the account.
func TestVoucherReceiptAddedCountsVouchers(t *testing.T) {
	h := newHarness(t, voucherConfig())
	h.open("0012345678", &alice)
	h.addVoucher(code, 500, VoucherOutcomeCommitted)
	h.do(KeyPress{Key: KeyEnter})
	rc := h.st().Receipt
	if rc == nil || rc.Added() != 500 || rc.Amount != 0 {
		t.Fatalf("voucher-only receipt %+v: want Added 500, cash 0", rc)
	}
	if rc.NewBalance == nil || *rc.NewBalance != 1750 {
		t.Errorf("voucher-only receipt balance %v, want 1750 (1250 + the voucher)", rc.NewBalance)
	}

	h2 := newHarness(t, voucherConfig())
	h2.open("0012345678", &alice)
	h2.coin(200)
	h2.addVoucher(code, 500, VoucherOutcomeCommitted)
	b, _ := find[Book](h2.do(KeyPress{Key: KeyEnter}))
	h2.do(BookingResult{SessionID: b.SessionID, Committed: true})
	rc = h2.st().Receipt
	if rc == nil || rc.Added() != 700 || rc.Amount != 200 {
		t.Fatalf("mixed receipt %+v: want Added 700, cash 200", rc)
	}
	if rc.NewBalance == nil || *rc.NewBalance != 1950 {
		t.Errorf("mixed receipt balance %v, want 1950", rc.NewBalance)
	}
}

// The lead's bug: the greeting said "Balance: €12.50" after a €5.00 voucher
// was committed. A committed voucher moves it; a pending one hides it (the
// kiosk does not know it yet).
func TestVoucherBalanceNotStale(t *testing.T) {
	h := newHarness(t, voucherConfig())
	h.open("0012345678", &alice)
	h.addVoucher(code, 500, VoucherOutcomeCommitted)
	if u := h.st().User; u == nil || u.Balance == nil || *u.Balance != 1750 {
		t.Errorf("balance after a committed voucher: %+v, want 1750", u)
	}
	if *alice.Balance != 1250 {
		t.Fatal("the engine changed the caller's user")
	}
	h2 := newHarness(t, voucherConfig())
	h2.open("0012345678", &alice)
	h2.addVoucher(code, 500, VoucherOutcomeCommitPending)
	if u := h2.st().User; u == nil || u.Balance != nil {
		t.Errorf("balance after a pending voucher: %v, want none shown", u.Balance)
	}
	h2.do(KeyPress{Key: KeyEnter})
	if rc := h2.st().Receipt; rc == nil || rc.NewBalance != nil || rc.Added() != 500 {
		t.Errorf("pending voucher receipt %+v: want 500 added, no balance", rc)
	}
}

// A student who added a voucher and walks away, or presses Esc, still gets
// the receipt screen: the voucher is on the account, and the screen says so.
func TestVoucherOnlySessionEndsOnItsReceipt(t *testing.T) {
	for _, end := range []string{"timeout", "esc"} {
		h := newHarness(t, voucherConfig())
		h.open("0012345678", &alice)
		h.addVoucher(code, 500, VoucherOutcomeCommitted)
		if end == "esc" {
			h.do(KeyPress{Key: KeyEsc})
		} else {
			h.adv(16 * time.Second) // the message goes
			h.adv(31 * time.Second) // card_timeout
		}
		st := h.st()
		if st.Phase != PhaseCredited || st.Receipt == nil || st.Receipt.Added() != 500 {
			t.Errorf("%s: phase %v receipt %+v, want the voucher's receipt", end, st.Phase, st.Receipt)
		}
	}
}

// The fifth invalid code ends a session with no money: the idle screen then
// says why (vouchers paused), for as long as the pause lasts.
func TestVoucherLockoutSaysWhyOnIdle(t *testing.T) {
	h := newHarness(t, voucherConfig())
	h.open("0012345678", &alice)
	for i := 0; i < 5; i++ {
		r := h.scan(code)
		h.do(VoucherResult{Reference: r.Reference, Outcome: VoucherOutcomeRefused})
	}
	st := h.st()
	if st.Phase != PhaseIdle {
		t.Fatalf("phase %v after 5 invalid codes, want idle", st.Phase)
	}
	if st.Voucher == nil || st.Voucher.Step != VoucherLocked || !st.Voucher.LockedUntil.Equal(h.now.Add(time.Minute)) {
		t.Fatalf("idle screen after the lockout: voucher %+v, want locked for 1 min", st.Voucher)
	}
	h.adv(61 * time.Second)
	if v := h.st().Voucher; v != nil {
		t.Errorf("idle screen after the pause: voucher %+v, want none", v)
	}
	if v := newHarness(t, voucherConfig()).st().Voucher; v != nil {
		t.Errorf("idle screen with no lockout: voucher %+v", v)
	}
}

// A session holding a voucher (added, offered or being checked) is the
// student's as much as one with coins: another card is ignored with a word,
// never replacing it (the first student lost their receipt screen).
func TestVoucherSessionNotReplacedBySecondCard(t *testing.T) {
	for _, held := range []string{"added", "offered"} {
		h := newHarness(t, voucherConfig())
		h.open("0012345678", &alice)
		if held == "added" {
			h.addVoucher(code, 500, VoucherOutcomeCommitted)
		} else {
			h.offer(h.scan(code), "p1", 500)
		}
		if _, ok := find[LookupCard](h.do(devices.CardRead{Device: "card", Number: "0099999999"})); ok {
			t.Fatalf("%s: a second card replaced the session", held)
		}
		st := h.st()
		if st.Phase != PhaseSession || st.Notice != NoticeSecondCard {
			t.Errorf("%s: phase %v notice %v, want the session and 'second card ignored'", held, st.Phase, st.Notice)
		}
	}
}

// A voucher scanned on the idle screen (before the card) was dropped without
// a word: the screen says to tap the card first.
func TestVoucherBeforeCardIsAnswered(t *testing.T) {
	h := newHarness(t, voucherConfig())
	if cmds := h.do(VoucherCode{Code: code, Source: "scanner"}); len(cmds) != 0 {
		t.Fatalf("a code with no session asked for %v", cmds)
	}
	st := h.st()
	if st.Phase != PhaseIdle || st.Notice != NoticeVoucherNeedsCard || !st.NoticeUntil.After(h.now) {
		t.Fatalf("idle after a scan: phase %v notice %v until %v", st.Phase, st.Notice, st.NoticeUntil)
	}
	if len(h.tj.kinds(journal.KindVoucherSeen)) != 0 {
		t.Error("a code with no session was journaled")
	}
	h.adv(NoticeFor + time.Second)
	if st := h.st(); st.Notice != NoticeNone {
		t.Errorf("notice %v after it ran out", st.Notice)
	}
	// Vouchers off: nothing to say.
	h2 := newHarness(t, testConfig())
	h2.do(VoucherCode{Code: code, Source: "scanner"})
	if st := h2.st(); st.Notice != NoticeNone {
		t.Errorf("vouchers off: notice %v", st.Notice)
	}
}

// The idle notice does not follow the student into the session it opened.
func TestVoucherNeedsCardNoticeStaysOnIdle(t *testing.T) {
	h := newHarness(t, voucherConfig())
	h.do(VoucherCode{Code: code, Source: "scanner"})
	h.open("0012345678", &alice)
	if st := h.st(); st.Notice != NoticeNone {
		t.Errorf("session opened with notice %v", st.Notice)
	}
}

// An offer left alone is cancelled after MessageFor; the screen needs that
// time to show a countdown (it vanished without warning).
func TestVoucherOfferCarriesItsDeadline(t *testing.T) {
	h := newHarness(t, voucherConfig())
	h.open("0012345678", &alice)
	h.offer(h.scan(code), "p1", 500)
	v := h.st().Voucher
	if v.Step != VoucherOffer || !v.Until.Equal(h.now.Add(15*time.Second)) {
		t.Fatalf("offer %+v: want Until 15 s from now", v)
	}
	h.adv(15 * time.Second)
	if v := h.st().Voucher; v.Step != VoucherIdle || !v.Until.IsZero() {
		t.Errorf("after the deadline: %+v", v)
	}
}

// A voucher message going away on its own is not the student's doing: the
// session's countdown must not jump back up when it does.
func TestVoucherMessageTimeoutKeepsTheCountdown(t *testing.T) {
	h := newHarness(t, voucherConfig())
	h.open("0012345678", &alice)
	h.addVoucher(code, 500, VoucherOutcomeCommitted)
	closeAt := h.st().CloseAt
	if closeAt.IsZero() {
		t.Fatal("no countdown after a voucher")
	}
	h.adv(16 * time.Second) // the "added" message goes
	if v := h.st().Voucher; v.Step != VoucherIdle {
		t.Fatalf("step %v, want the message gone", v.Step)
	}
	if got := h.st().CloseAt; !got.Equal(closeAt) {
		t.Errorf("CloseAt moved from %v to %v when the message went", closeAt, got)
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
