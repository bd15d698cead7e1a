package ui

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"

	"github.com/printroom/voucherkiosk/kiosk"
)

// postEngine is chanEngine that also takes voucher codes.
type postEngine struct {
	*chanEngine
	mu    sync.Mutex
	codes []kiosk.VoucherCode
}

func (e *postEngine) Post(ev any) {
	if c, ok := ev.(kiosk.VoucherCode); ok {
		e.mu.Lock()
		e.codes = append(e.codes, c)
		e.mu.Unlock()
	}
}

func (e *postEngine) got() []kiosk.VoucherCode {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]kiosk.VoucherCode(nil), e.codes...)
}

func startVoucherUI(t *testing.T) (*harness, *postEngine) {
	var pe *postEngine
	h := startUI(t, 100, 30, func(o *Options, u *UI) {
		if o != nil {
			pe = &postEngine{chanEngine: o.Engine.(*chanEngine)}
			o.Engine = pe
		}
		if u != nil {
			u.vin.clock = u.now
		}
	})
	return h, pe
}

// press runs a key through handleKey on the event loop, at the fake clock's
// time, and waits for it to be handled.
func (h *harness) press(k tcell.Key, r rune) {
	h.t.Helper()
	done := make(chan struct{})
	h.u.app.QueueUpdateDraw(func() {
		h.u.handleKey(tcell.NewEventKey(k, r, tcell.ModNone))
		close(done)
	})
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		h.t.Fatal("event loop did not answer")
	}
}

func (h *harness) typeRunes(s string, gap time.Duration) {
	for _, r := range s {
		h.press(tcell.KeyRune, r)
		h.clock.add(gap)
	}
}

func sessionState(v kiosk.VoucherView) kiosk.State {
	return kiosk.State{Phase: kiosk.PhaseSession, SessionID: "s1", User: &kiosk.User{ID: 7, FullName: "Ada"}, Voucher: &v}
}

func TestWedgeScannerBurstIsACodeNotEnter(t *testing.T) {
	h, pe := startVoucherUI(t)
	h.show(sessionState(kiosk.VoucherView{}))
	h.waitText("Scan a voucher or type its code (V)")
	h.typeRunes("MYQ5-7Q3K-4821", time.Millisecond)
	h.press(tcell.KeyEnter, 0)
	h.waitFor("code posted", func() bool { return len(pe.got()) == 1 })
	if c := pe.got()[0]; c.Code != "MYQ5-7Q3K-4821" || c.Source != "keyboard" {
		t.Errorf("code = %+v", c)
	}
	if k := h.keysSoFar(); len(k) != 0 {
		t.Errorf("the scanner's Enter reached the engine as %v", k)
	}
	// A wedge code that starts with V keeps its V.
	h.typeRunes("V123-4567", time.Millisecond)
	h.press(tcell.KeyEnter, 0)
	h.waitFor("second code", func() bool { return len(pe.got()) == 2 })
	if c := pe.got()[1]; c.Code != "V123-4567" || c.Source != "keyboard" {
		t.Errorf("V code = %+v", c)
	}
	// A person pressing a key, then Enter a while later: Enter books.
	h.clock.add(time.Second)
	h.typeRunes("x", 500*time.Millisecond)
	h.press(tcell.KeyEnter, 0)
	h.waitFor("enter at the engine", func() bool { return len(h.eng.gotKeys()) == 1 })
	if len(pe.got()) != 2 {
		t.Errorf("a slow key and Enter became a code: %+v", pe.got())
	}
}

func TestKeypadVoucherEntry(t *testing.T) {
	h, pe := startVoucherUI(t)
	h.show(sessionState(kiosk.VoucherView{}))
	h.press(tcell.KeyRune, 'v')
	h.waitText("Voucher code:")
	h.clock.add(time.Second)
	h.typeRunes("ABCD-12345", 300*time.Millisecond)
	h.press(tcell.KeyBackspace2, 0)
	h.waitText("Voucher code: ABCD-1234_")
	h.press(tcell.KeyEnter, 0)
	h.waitFor("code posted", func() bool { return len(pe.got()) == 1 })
	if c := pe.got()[0]; c.Code != "ABCD-1234" || c.Source != "keypad" {
		t.Errorf("code = %+v", c)
	}
	// Esc leaves the entry line without cancelling the session; typing
	// only told the engine the student needs more time.
	h.press(tcell.KeyRune, 'V')
	h.press(tcell.KeyEscape, 0)
	for _, k := range h.keysSoFar() {
		if k != kiosk.KeyMore {
			t.Errorf("key at the engine: %v", k)
		}
	}
}

func TestVoucherScreens(t *testing.T) {
	h, _ := startVoucherUI(t)
	h.show(sessionState(kiosk.VoucherView{Step: kiosk.VoucherOffer, Amount: 500}))
	h.waitText("Voucher worth €5.00: Enter to add it, Esc to cancel")
	h.waitText("Enter: add voucher")
	h.show(sessionState(kiosk.VoucherView{Step: kiosk.VoucherRejected, Reason: kiosk.VoucherUsed, MyQText: "Voucher \x1b[2Jused [red]!"}))
	h.waitText("This voucher has already been used")
	if txt := h.text(); strings.Contains(txt, "[red]") || strings.Contains(txt, "\x1b") {
		t.Errorf("MyQ's text shown uncleaned:\n%s", txt)
	}
	h.show(sessionState(kiosk.VoucherView{Step: kiosk.VoucherNoServer}))
	h.waitText("Vouchers need the print server: try again later")
	// In the student's language.
	h.onLoop(func() { h.u.lang = 1 })
	h.show(sessionState(kiosk.VoucherView{Step: kiosk.VoucherNoServer}))
	h.waitText("Poukázky vyžadují tiskový server")
	h.onLoop(func() { h.u.lang = 2 })
	h.show(sessionState(kiosk.VoucherView{Step: kiosk.VoucherLocked, LockedUntil: testNow.Add(2 * time.Minute)}))
	h.waitText("Zu viele ungültige Codes: Gutscheine sind für 2 min gesperrt")
}

func TestVoucherCatalogsHaveSameKeys(t *testing.T) {
	for lang, c := range voucherCatalogs {
		if _, ok := catalogs[lang]; !ok {
			t.Errorf("voucher catalog %s has no screen catalog", lang)
		}
		for k := range voucherCatalogs["en"] {
			if c[k] == "" {
				t.Errorf("%s lacks %s", lang, k)
			}
		}
		if len(c) != len(voucherCatalogs["en"]) {
			t.Errorf("%s has %d keys, en %d", lang, len(c), len(voucherCatalogs["en"]))
		}
	}
}

func TestTechnicianMenuShowsVouchersApartFromCash(t *testing.T) {
	h, stub := startTech(t, time.Hour)
	stub.mu.Lock()
	stub.cash.VoucherCount, stub.cash.Vouchers = 2, 1000
	stub.mu.Unlock()
	h.key(tcell.KeyF10, 0, tcell.ModNone)
	h.waitText("Technician PIN:")
	h.typePIN(testPIN)
	h.waitText("vouchers (not cash, not in the box): 2, €10.00")
	if txt := h.text(); !strings.Contains(txt, "Cash in the box") || !strings.Contains(txt, "): €39.50") {
		t.Errorf("vouchers counted as cash:\n%s", txt)
	}
}

// A scanner burst while an offer is on screen must not confirm the offer
// with its Enter; the student's own Enter does.
func TestWedgeBurstDuringOfferDoesNotConfirm(t *testing.T) {
	h, pe := startVoucherUI(t)
	h.show(sessionState(kiosk.VoucherView{Step: kiosk.VoucherOffer, Amount: 500}))
	h.typeRunes("MYQ5-H2VX-9034", time.Millisecond)
	h.press(tcell.KeyEnter, 0)
	if k := h.keysSoFar(); len(k) != 0 {
		t.Fatalf("the scanner's Enter reached the engine: %v", k)
	}
	if len(pe.got()) != 0 {
		t.Errorf("a second code was posted during an offer: %v", pe.got())
	}
	h.clock.add(time.Second)
	h.press(tcell.KeyEnter, 0)
	if k := h.keysSoFar(); len(k) != 1 || k[0] != kiosk.KeyEnter {
		t.Fatalf("keys at the engine %v, want the student's Enter alone", k)
	}
}

// After a voucher with no cash, Enter shows the receipt (the engine ends the
// session): the footer says "finish", not "add to my account".
func TestVoucherOnlyFooterSaysFinish(t *testing.T) {
	h, _ := startVoucherUI(t)
	st := sessionState(kiosk.VoucherView{Step: kiosk.VoucherAdded, Amount: 500, Credited: 500, Count: 1})
	h.show(st)
	h.waitText("Enter: finish")
	if strings.Contains(h.text(), "Enter: add to my account") {
		t.Errorf("footer offers to add what is already added:\n%s", h.text())
	}
	h.press(tcell.KeyEnter, 0)
	h.waitFor("Enter at the engine", func() bool { return len(h.eng.gotKeys()) == 1 })
	st.Total = 200
	h.show(st)
	h.waitText("Enter: add to my account")
}

// Offline (MyQ not reached at the card tap) the session screen does not
// invite a voucher it cannot take: it says so at once, and V opens nothing.
func TestOfflineSessionDoesNotInviteVouchers(t *testing.T) {
	h, pe := startVoucherUI(t)
	st := sessionState(kiosk.VoucherView{})
	st.Offline, st.Total = true, 100
	h.show(st)
	h.waitText("Vouchers need the print server: try again later")
	txt := h.text()
	if strings.Contains(txt, "Scan a voucher") || strings.Contains(txt, "V: voucher") {
		t.Errorf("offline screen invites vouchers:\n%s", txt)
	}
	h.clock.add(time.Second)
	h.press(tcell.KeyRune, 'v')
	if strings.Contains(h.text(), "Voucher code:") {
		t.Error("V opened the code entry offline")
	}
	// A scanner's burst still reaches the engine (which answers offline).
	h.clock.add(time.Second)
	h.typeRunes("MYQ5-7Q3K-4821", time.Millisecond)
	h.press(tcell.KeyEnter, 0)
	h.waitFor("code posted", func() bool { return len(pe.got()) == 1 })
}

// V right after "voucher added" (or a refusal) opens the entry line where
// the message was: the student sees what they type. Typing keeps the
// session open (each key is activity for the engine).
func TestKeypadEntryShowsOverAMessage(t *testing.T) {
	h, pe := startVoucherUI(t)
	h.show(sessionState(kiosk.VoucherView{Step: kiosk.VoucherAdded, Amount: 500, Credited: 500, Count: 1}))
	h.waitText("Voucher of €5.00 added")
	h.press(tcell.KeyRune, 'v')
	h.clock.add(time.Second)
	h.typeRunes("AB", 300*time.Millisecond)
	h.waitText("Voucher code: AB_")
	if strings.Contains(h.text(), "Voucher of €5.00 added") {
		t.Errorf("the old message hides the entry line:\n%s", h.text())
	}
	h.waitFor("activity at the engine", func() bool { return len(h.eng.gotKeys()) == 2 })
	for _, k := range h.keysSoFar() {
		if k != kiosk.KeyMore {
			t.Errorf("typing sent %v, want only 'more time'", k)
		}
	}
	if len(pe.got()) != 0 {
		t.Errorf("codes posted: %v", pe.got())
	}
}

// After five invalid codes the session ends and vouchers pause: the idle
// screen says so until the pause is over, and the next session shows the
// pause instead of inviting a code (V opens nothing).
func TestVoucherLockoutShown(t *testing.T) {
	h, _ := startVoucherUI(t)
	locked := &kiosk.VoucherView{Step: kiosk.VoucherLocked, LockedUntil: testNow.Add(90 * time.Second)}
	h.show(kiosk.State{Phase: kiosk.PhaseIdle, Now: testNow, Accepted: accepted, Queue: online, Voucher: locked})
	h.waitText("Too many invalid codes: vouchers are paused for 2 min")
	st := sessionState(kiosk.VoucherView{LockedUntil: testNow.Add(30 * time.Second)})
	st.Now = testNow
	h.show(st)
	h.waitText("Too many invalid codes: vouchers are paused for 1 min")
	txt := h.text()
	if strings.Contains(txt, "Scan a voucher") || strings.Contains(txt, "V: voucher") {
		t.Errorf("a locked session invites vouchers:\n%s", txt)
	}
	h.press(tcell.KeyRune, 'v')
	if strings.Contains(h.text(), "Voucher code:") {
		t.Error("V opened the code entry while vouchers are paused")
	}
	// The pause ends on the engine's clock: the idle screen forgets it.
	h.show(kiosk.State{Phase: kiosk.PhaseIdle, Now: testNow.Add(2 * time.Minute), Accepted: accepted, Queue: online, Voucher: locked})
	h.waitFor("lock gone", func() bool { return !strings.Contains(h.textNow(), "paused") })
}

// While MyQ checks a code or commits it the engine swallows Enter: the
// footer must not offer "Enter: add to my account" then.
func TestVoucherBusyFooterOffersNoEnter(t *testing.T) {
	h, _ := startVoucherUI(t)
	for _, step := range []kiosk.VoucherStep{kiosk.VoucherAsking, kiosk.VoucherAdding} {
		st := sessionState(kiosk.VoucherView{Step: step, Amount: 500})
		st.Total = 200
		h.show(st)
		txt := h.text()
		if strings.Contains(txt, "Enter:") {
			t.Errorf("%v: footer offers Enter:\n%s", step, txt)
		}
		if step == kiosk.VoucherAsking && !strings.Contains(txt, "Esc") {
			t.Errorf("%v: footer does not say Esc cancels:\n%s", step, txt)
		}
	}
}

// With nothing in (or below the minimum) Enter does nothing at the engine:
// the footer must not offer it.
func TestFooterOffersEnterOnlyWhenItAdds(t *testing.T) {
	h, _ := startVoucherUI(t)
	empty := sessionState(kiosk.VoucherView{})
	h.show(empty)
	if txt := h.text(); strings.Contains(txt, "Enter: add to my account") {
		t.Errorf("empty session offers Enter:\n%s", txt)
	}
	below := sessionState(kiosk.VoucherView{})
	below.Total, below.MinTopup, below.BelowMin = 50, 100, true
	h.show(below)
	if txt := h.text(); strings.Contains(txt, "Enter: add to my account") {
		t.Errorf("session below the minimum offers Enter:\n%s", txt)
	}
	below.Total, below.BelowMin = 150, false
	h.show(below)
	h.waitText("Enter: add to my account")
}

// "Gutscheine aufgeladen: 1, 5,00 €" read as a list of numbers in Czech and
// German, where the comma is the decimal mark: the sum goes in brackets.
func TestVoucherCountReadsInEveryLanguage(t *testing.T) {
	h, _ := startVoucherUI(t)
	want := []string{"Vouchers added: 1 (€5.00)", "Přidané poukázky: 1 (5,00 €)", "Gutscheine aufgeladen: 1 (5,00 €)"}
	for i, w := range want {
		h.onLoop(func() { h.u.lang = i })
		h.show(sessionState(kiosk.VoucherView{Credited: 500, Count: 1}))
		h.waitText(w)
	}
}

// Issue 16's wording applies to the voucher screens too: "obsluha
// tiskárny" reads as a print shop in Czech, and "book" is jargon.
func TestVoucherWordsFollowTheScreens(t *testing.T) {
	for lang, c := range voucherCatalogs {
		for k, s := range c {
			low := strings.ToLower(s)
			if strings.Contains(low, "tiskárny") || strings.Contains(low, "book") {
				t.Errorf("%s %s = %q", lang, k, s)
			}
		}
	}
}

// A voucher scanned before the card: the idle screen says what to do, for
// as long as the engine's notice lasts.
func TestIdleSaysCardFirst(t *testing.T) {
	h, _ := startVoucherUI(t)
	h.show(kiosk.State{Phase: kiosk.PhaseIdle, Accepted: accepted, Queue: online,
		Notice: kiosk.NoticeVoucherNeedsCard, NoticeUntil: testNow.Add(5 * time.Second)})
	h.waitText("Tap your card first, then scan the voucher")
	h.show(kiosk.State{Phase: kiosk.PhaseIdle, Now: testNow.Add(6 * time.Second), Accepted: accepted, Queue: online,
		Notice: kiosk.NoticeVoucherNeedsCard, NoticeUntil: testNow.Add(5 * time.Second)})
	h.waitFor("notice gone", func() bool { return !strings.Contains(h.textNow(), "card first") })
}

// "Vouchers added: 1 (€5.00)" right above "Voucher of €5.00 added" said the
// same thing twice; the count shows once there are two, or the message is
// gone.
func TestVoucherAddedSaidOnce(t *testing.T) {
	h, _ := startVoucherUI(t)
	h.show(sessionState(kiosk.VoucherView{Step: kiosk.VoucherAdded, Amount: 500, Credited: 500, Count: 1}))
	h.waitText("Voucher of €5.00 added")
	if strings.Contains(h.text(), "Vouchers added:") {
		t.Errorf("the first voucher is announced twice:\n%s", h.text())
	}
	h.show(sessionState(kiosk.VoucherView{Step: kiosk.VoucherAdded, Amount: 500, Credited: 1000, Count: 2}))
	h.waitText("Vouchers added: 2 (€10.00)")
	h.show(sessionState(kiosk.VoucherView{Credited: 500, Count: 1}))
	h.waitText("Vouchers added: 1 (€5.00)")
}

// The offer says how long it waits for Enter.
func TestVoucherOfferShowsItsCountdown(t *testing.T) {
	h, _ := startVoucherUI(t)
	h.show(sessionState(kiosk.VoucherView{Step: kiosk.VoucherOffer, Amount: 500, Until: testNow.Add(12 * time.Second)}))
	h.waitText("Not added unless you press Enter within 12 s")
}

// A wedge scanner's burst on the idle screen (a voucher before the card)
// went nowhere, and each L in the code switched the language: the code goes
// to the engine (which says "tap your card first"), the language stays.
func TestIdleWedgeBurst(t *testing.T) {
	h, pe := startVoucherUI(t)
	h.show(kiosk.State{Phase: kiosk.PhaseIdle, Accepted: accepted, Queue: online})
	h.waitText("Tap your card on the reader")
	h.typeRunes("LML5-7Q3K-4L21", time.Millisecond)
	h.press(tcell.KeyEnter, 0)
	h.waitFor("code posted", func() bool { return len(pe.got()) == 1 })
	if c := pe.got()[0]; c.Code != "LML5-7Q3K-4L21" || c.Source != "keyboard" {
		t.Errorf("code = %+v", c)
	}
	var lang int
	h.onLoop(func() { lang = h.u.lang })
	if lang != 0 {
		t.Errorf("the burst switched the language to %d", lang)
	}
	if k := h.keysSoFar(); len(k) != 0 {
		t.Errorf("keys at the engine: %v", k)
	}
	// A person's L still switches the language, and a slow Enter is Enter.
	h.clock.add(time.Second)
	h.press(tcell.KeyRune, 'l')
	h.onLoop(func() { lang = h.u.lang })
	if lang != 1 {
		t.Errorf("a person's L: language %d, want 1", lang)
	}
	h.clock.add(time.Second)
	h.press(tcell.KeyEnter, 0)
	h.waitFor("Enter at the engine", func() bool { return len(h.eng.gotKeys()) == 1 })
	if len(pe.got()) != 1 {
		t.Errorf("a person's L and Enter became a code: %v", pe.got())
	}
}

// A voucher whose commit MyQ has not confirmed yet (the server went away
// after Enter) is not "added to your account" on the receipt's headline.
func TestReceiptOfPendingVoucherSaysShortly(t *testing.T) {
	h, _ := startVoucherUI(t)
	r := &kiosk.Receipt{Reference: "library-ground-floor/000128", At: testNow,
		Vouchers: []kiosk.VoucherLine{{Reference: "library-ground-floor/000128/v1", Masked: "**********0001", Amount: 500, Pending: true}}}
	h.show(kiosk.State{Phase: kiosk.PhaseCredited, User: jana, Receipt: r, Queue: online, MessageUntil: testNow.Add(15 * time.Second)})
	h.waitText("accepted: it will be added to your account")
	if strings.Contains(h.text(), "\n  added to your account") {
		t.Errorf("a pending voucher is called added:\n%s", h.text())
	}
	r.Vouchers[0].Pending = false
	h.show(kiosk.State{Phase: kiosk.PhaseCredited, User: jana, Receipt: r, Queue: online, MessageUntil: testNow.Add(15 * time.Second)})
	h.waitText("\n  added to your account")
}

// After a €5.00 voucher with no coins the big figure read "Inserted €0.00",
// as if the voucher had not counted: it is the session's whole, cash and
// vouchers, labelled so.
func TestSessionBigFigureCountsVouchers(t *testing.T) {
	h, _ := startVoucherUI(t)
	st := sessionState(kiosk.VoucherView{Credited: 500, Count: 1})
	st.Total = 200
	h.show(st)
	h.waitText("Added in this session")
	txt := h.text()
	if !hasBig(t, txt, "€7.00") {
		t.Fatalf("big figure is not €7.00:\n%s", txt)
	}
	if strings.Contains(txt, "Inserted") {
		t.Errorf("still labelled Inserted:\n%s", txt)
	}
}
