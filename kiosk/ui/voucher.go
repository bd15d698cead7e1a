package ui

// Voucher screens and code entry. Three ways a code reaches the engine:
// V and typing (a visible entry line), a keyboard-wedge barcode scanner (its
// characters arrive as keystrokes a few milliseconds apart, ending in
// Enter: routed as a code, never as Enter-to-book), and a serial scanner
// (the engine gets those directly). What a code means is the engine's
// business; the UI only collects keystrokes and shows the VoucherView.

import (
	"context"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/gdamore/tcell/v2"

	"github.com/printroom/voucherkiosk/api"
	"github.com/printroom/voucherkiosk/kiosk"
	"github.com/printroom/voucherkiosk/kiosk/journal"
)

// wedgeGap: keystrokes closer than this are a scanner, not a person (people
// need ~100 ms or more between keys; wedge scanners send a code in a burst).
const wedgeGap = 60 * time.Millisecond

// maxCodeRunes bounds what the entry line keeps.
const maxCodeRunes = kiosk.MaxVoucherCode

// VoucherPoster is the optional Engine method that takes a code
// (*kiosk.Runner has it). Without it codes are dropped and logged.
type VoucherPoster interface {
	Post(ev any)
}

// voucherInput is the keystroke buffer. On the event loop only.
type voucherInput struct {
	visible bool   // V was pressed: the entry line shows
	vFirst  bool   // the buffer began with V (kept when it turns out a burst)
	buf     []rune // typed so far
	last    time.Time
	fast    bool // every keystroke so far came within wedgeGap
	lang    int  // idle screen: the language before the burst's first key
	// clock, when set, replaces the keys' own time (tests).
	clock func() time.Time
}

func (v *voucherInput) reset() { v.begin(false, nil, time.Time{}) }

// begin starts a new buffer (keeping the clock).
func (v *voucherInput) begin(visible bool, buf []rune, at time.Time) {
	*v = voucherInput{visible: visible, vFirst: visible, buf: buf, last: at, fast: true, clock: v.clock}
}

// at is when ev was read from the terminal: keys read in one burst share
// nearly the same time however late the event loop handles them.
func (v *voucherInput) at(ev *tcell.EventKey) time.Time {
	if v.clock != nil {
		return v.clock()
	}
	return ev.When()
}

// voucherKey takes the keys vouchers need; true when it used ev.
func (u *UI) voucherKey(ev *tcell.EventKey) bool {
	in := &u.vin
	if u.st.Phase == kiosk.PhaseIdle && u.have {
		return u.idleWedgeKey(ev)
	}
	if u.st.Phase != kiosk.PhaseSession || u.st.Voucher == nil {
		in.reset()
		return false
	}
	// While a voucher is with MyQ or offered, a second scan is still
	// collected, so the scanner's Enter cannot confirm the offer on screen.
	ready := voucherReady(u.st.Voucher.Step)
	// Offline, V does not open the entry line (the screen says vouchers
	// need the print server); a scanner's code still goes to the engine,
	// which says the same.
	typing := ready && !u.st.Offline && !u.vouchersLocked()
	if !ready && in.visible {
		in.reset()
	}
	now := in.at(ev)
	gapOK := !in.last.IsZero() && now.Sub(in.last) < wedgeGap
	switch ev.Key() {
	case tcell.KeyRune:
		if ev.Modifiers()&(tcell.ModCtrl|tcell.ModAlt) != 0 {
			return false
		}
		r := ev.Rune()
		if len(in.buf) == 0 && !in.visible {
			if (r == 'v' || r == 'V') && typing {
				in.begin(true, nil, now)
				return true
			}
			if r == langRune || r == 'L' {
				return false
			}
			in.begin(false, []rune{r}, now)
			return true
		}
		if !in.visible && !gapOK {
			// A person pressing keys: not a code. Start again from this one.
			in.begin(false, []rune{r}, now)
			return true
		}
		in.fast = in.fast && gapOK
		if len(in.buf) < maxCodeRunes {
			in.buf = append(in.buf, r)
		}
		in.last = now
		if in.visible && !gapOK {
			// A person typing (not a scanner's burst): keep the session
			// open while they do.
			u.sendKey(kiosk.KeyMore)
		}
		return true
	case tcell.KeyBackspace, tcell.KeyBackspace2:
		if in.visible && len(in.buf) > 0 {
			in.buf = in.buf[:len(in.buf)-1]
			in.last, in.fast = now, false
			return true
		}
		return in.visible
	case tcell.KeyEscape:
		if in.visible {
			in.reset()
			return true
		}
		in.reset()
		return false
	case tcell.KeyEnter:
		burst := in.fast && gapOK && len(in.buf) > 0
		if !in.visible && !burst {
			in.reset()
			return false // Enter to book
		}
		if !ready {
			// A scan during an offer: dropped (one voucher at a time), and
			// its Enter is not the student's.
			u.log.Info("ui: voucher scan ignored while another voucher is on screen")
			in.reset()
			return true
		}
		code := string(in.buf)
		source := "keypad"
		if burst {
			source = "keyboard"
			if in.vFirst {
				code = "V" + code // a wedge code that began with V
			}
		}
		in.reset()
		if code != "" {
			u.postVoucher(kiosk.VoucherCode{Code: code, Source: source})
		}
		return true
	}
	return in.visible // other keys do nothing while typing a code
}

// idleWedgeKey watches the idle screen for a keyboard-wedge scanner's burst
// (a voucher scanned before the card). A person's keys pass through: the
// first key of a burst is not yet known to be one, so an L that began it
// switched the language, and is undone when the burst shows itself. The
// code goes to the engine, which tells the student to tap the card first.
func (u *UI) idleWedgeKey(ev *tcell.EventKey) bool {
	in := &u.vin
	now := in.at(ev)
	gapOK := !in.last.IsZero() && now.Sub(in.last) < wedgeGap
	switch ev.Key() {
	case tcell.KeyRune:
		if ev.Modifiers()&(tcell.ModCtrl|tcell.ModAlt) != 0 {
			in.reset()
			return false
		}
		if len(in.buf) == 0 || !gapOK {
			in.begin(false, []rune{ev.Rune()}, now)
			in.lang = u.lang
			return false // a person's key, as far as anyone knows yet
		}
		u.lang = in.lang // a burst: its first key was not the student's L
		if len(in.buf) < maxCodeRunes {
			in.buf = append(in.buf, ev.Rune())
		}
		in.last = now
		return true
	case tcell.KeyEnter:
		burst := gapOK && len(in.buf) >= 2
		code := string(in.buf)
		in.reset()
		if !burst {
			return false
		}
		u.postVoucher(kiosk.VoucherCode{Code: code, Source: "keyboard"})
		return true
	}
	in.reset()
	return false
}

// voucherReady: the session screen can take a new code.
func voucherReady(s kiosk.VoucherStep) bool {
	switch s {
	case kiosk.VoucherAsking, kiosk.VoucherOffer, kiosk.VoucherAdding:
		return false
	}
	return true
}

func (u *UI) postVoucher(c kiosk.VoucherCode) {
	p, ok := u.opts.Engine.(VoucherPoster)
	if !ok {
		u.log.Warn("ui: engine takes no voucher codes; code dropped")
		return
	}
	u.log.Info("ui: voucher code", "source", c.Source, "code", journal.MaskVoucher(c.Code), "runes", utf8.RuneCountInString(c.Code))
	u.spawn(func(context.Context) { p.Post(c) })
}

// drawVoucher adds the voucher lines of the session screen.
func (u *UI) drawVoucher(add func(tcell.Style, string), blank func()) {
	v := u.st.Voucher
	if v == nil {
		return
	}
	blank()
	if v.Credited > 0 && !(v.Step == kiosk.VoucherAdded && v.Count == 1 && !u.vin.visible) {
		// (The first voucher's own "added" line says it all.)
		add(u.p.good, u.vt("v_credited", v.Count, u.money(v.Credited)))
	}
	step := v.Step
	if u.vin.visible && voucherReady(step) {
		step = kiosk.VoucherIdle // the entry line replaces a message it follows
	}
	if step == kiosk.VoucherIdle && u.vouchersLocked() {
		step = kiosk.VoucherLocked // no invitation while codes are refused
	}
	switch step {
	case kiosk.VoucherIdle:
		if u.st.Offline && !u.vin.visible {
			// Only MyQ can check a code: no invitation the kiosk cannot
			// keep, and no surprise after typing one.
			add(u.p.warn, u.vt("v_offline"))
			break
		}
		if u.vin.visible {
			add(u.p.title, u.vt("v_type")+" "+string(u.vin.buf)+"_")
			add(u.p.info, u.vt("v_type_help"))
		} else {
			add(u.p.info, u.vt("v_offer_scan"))
		}
	case kiosk.VoucherAsking:
		add(u.p.info, u.vt("v_checking"))
	case kiosk.VoucherOffer:
		add(u.p.title, u.vt("v_worth", u.money(v.Amount)))
		if s, ok := u.countdown(v.Until); ok {
			add(u.p.info, u.vt("v_offer_ends", s))
		}
	case kiosk.VoucherAdding:
		add(u.p.info, u.vt("v_adding", u.money(v.Amount)))
	case kiosk.VoucherAdded:
		if v.Pending {
			add(u.p.warn, u.vt("v_pending", u.money(v.Amount)))
		} else {
			add(u.p.good, u.vt("v_added", u.money(v.Amount)))
		}
	case kiosk.VoucherRejected:
		switch v.Reason {
		case kiosk.VoucherUsed:
			add(u.p.bad, u.vt("v_used"))
		case kiosk.VoucherNotACode:
			add(u.p.bad, u.vt("v_not_code"))
		default:
			add(u.p.bad, u.vt("v_invalid"))
		}
		if t := api.CleanVoucherText(v.MyQText); t != "" {
			add(u.p.info, u.vt("v_myq_says", t))
		}
	case kiosk.VoucherNoServer:
		add(u.p.warn, u.vt("v_offline"))
	case kiosk.VoucherLocked:
		add(u.p.bad, u.lockedText())
	case kiosk.VoucherBroken:
		add(u.p.bad, u.vt("v_broken"))
	}
}

// vouchersLocked: too many invalid codes, and the pause is not over yet
// on the engine's clock.
func (u *UI) vouchersLocked() bool {
	v := u.st.Voucher
	return v != nil && !v.LockedUntil.IsZero() && u.engineNow().Before(v.LockedUntil)
}

func (u *UI) lockedText() string {
	mins := int((u.st.Voucher.LockedUntil.Sub(u.engineNow()) + time.Minute - 1) / time.Minute)
	return u.vt("v_locked", max(mins, 1))
}

// drawIdleVoucher tells the idle screen that vouchers are paused (the
// lockout that ended the last session), until the pause is over.
func (u *UI) drawIdleVoucher(add func(tcell.Style, string), blank func()) {
	if u.st.Phase != kiosk.PhaseIdle {
		return
	}
	if u.st.Notice == kiosk.NoticeVoucherNeedsCard && u.engineNow().Before(u.st.NoticeUntil) {
		blank()
		add(u.p.warn, u.vt("v_card_first"))
	}
	if u.vouchersLocked() {
		blank()
		add(u.p.warn, u.lockedText())
	}
}

// voucherHints are the footer hints of a session with vouchers on.
func (u *UI) voucherHints(hints []string) []string {
	v := u.st.Voucher
	if v == nil {
		return hints
	}
	esc := func(h []string) []string {
		if u.footerShows(tcell.KeyEscape) {
			return h
		}
		return append(h, u.t("key_esc_cancel"))
	}
	switch {
	case v.Step == kiosk.VoucherOffer:
		return esc([]string{u.vt("v_key_add")})
	case v.Step == kiosk.VoucherAsking:
		// The engine takes no Enter while MyQ checks the code: only Esc.
		return esc(nil)
	case v.Step == kiosk.VoucherAdding:
		return nil // the commit is on its way: no key does anything
	case u.vin.visible:
		return esc([]string{u.vt("v_key_submit")})
	case u.st.Offline, u.vouchersLocked():
		return hints
	case voucherReady(v.Step):
		if u.st.Total == 0 && v.Credited > 0 {
			// The vouchers are on the account already: Enter (or Esc)
			// only ends the session on its receipt; nothing to cancel.
			hints = []string{u.vt("v_key_finish")}
		}
		return append(hints, u.vt("v_key_v"))
	}
	return hints
}

// allPending: the receipt is vouchers only, each still waiting for MyQ to
// confirm its commit.
func allPending(r *kiosk.Receipt) bool {
	if r.Amount != 0 || len(r.Vouchers) == 0 {
		return false
	}
	for _, l := range r.Vouchers {
		if !l.Pending {
			return false
		}
	}
	return true
}

// drawReceiptVouchers adds the vouchers of a finished session's receipt.
func (u *UI) drawReceiptVouchers(add func(tcell.Style, string)) {
	r := u.st.Receipt
	if r == nil {
		return
	}
	saved := u.st.Phase == kiosk.PhaseSavedOffline
	if len(r.Vouchers) > 0 && r.Amount > 0 && !saved {
		// The headline counts both: say which part was cash.
		add(u.p.body, u.vt("v_receipt_cash", u.money(r.Amount)))
	}
	for _, l := range r.Vouchers {
		key := "v_receipt_line"
		switch {
		case l.Pending:
			key = "v_receipt_pending"
		case saved:
			// The headline is the cash still to be added; the vouchers
			// were committed in the session, offline or not now.
			key = "v_receipt_done"
		}
		add(u.p.body, u.vt(key, u.money(l.Amount), l.Masked))
	}
}

func (u *UI) vt(key string, args ...any) string {
	c, ok := voucherCatalogs[u.langCode()]
	if !ok {
		c = voucherCatalogs["en"]
	}
	s, ok := c[key]
	if !ok {
		s = voucherCatalogs["en"][key]
	}
	return trf(s, args...)
}

func trf(s string, args ...any) string {
	if len(args) == 0 {
		return s
	}
	return fmt.Sprintf(s, args...)
}

var voucherCatalogs = map[string]catalog{
	"en": {
		"v_offer_scan":      "Scan a voucher or type its code (V)",
		"v_card_first":      "Tap your card first, then scan the voucher",
		"v_type":            "Voucher code:",
		"v_type_help":       "Type the code and press Enter",
		"v_checking":        "Checking the voucher…",
		"v_worth":           "Voucher worth %s: Enter to add it, Esc to cancel",
		"v_adding":          "Adding the voucher (%s)…",
		"v_offer_ends":      "Not added unless you press Enter within %d s",
		"v_added":           "Voucher of %s added",
		"v_pending":         "Voucher of %s accepted: it will be credited shortly",
		"v_credited":        "Vouchers added: %d (%s)",
		"v_invalid":         "This voucher code is not valid or has expired",
		"v_used":            "This voucher has already been used",
		"v_not_code":        "That is not a voucher code",
		"v_myq_says":        "Print server: %s",
		"v_offline":         "Vouchers need the print server: try again later",
		"v_locked":          "Too many invalid codes: vouchers are paused for %d min",
		"v_broken":          "Vouchers are not available: please ask the print room staff",
		"v_key_v":           "V: voucher",
		"v_key_add":         "Enter: add voucher",
		"v_key_submit":      "Enter: check code",
		"v_key_finish":      "Enter: finish",
		"v_receipt_cash":    "Coins and notes %s",
		"v_session_total":   "Added in this session",
		"v_all_pending_sub": "accepted: it will be added to your account shortly",
		"v_receipt_line":    "Voucher %s (%s)",
		"v_receipt_done":    "Voucher %s (%s): already added",
		"v_receipt_pending": "Voucher %s (%s): being credited",
	},
	"cs": {
		"v_offer_scan":      "Naskenujte poukázku nebo zadejte její kód (V)",
		"v_card_first":      "Nejdřív přiložte kartu, pak naskenujte poukázku",
		"v_type":            "Kód poukázky:",
		"v_type_help":       "Zadejte kód a stiskněte Enter",
		"v_checking":        "Ověřuji poukázku…",
		"v_worth":           "Poukázka v hodnotě %s: Enter ji přidá, Esc zruší",
		"v_adding":          "Přidávám poukázku (%s)…",
		"v_offer_ends":      "Pokud do %d s nestisknete Enter, poukázka se nepřidá",
		"v_added":           "Poukázka %s přidána",
		"v_pending":         "Poukázka %s přijata: kredit bude brzy připsán",
		"v_credited":        "Přidané poukázky: %d (%s)",
		"v_invalid":         "Kód poukázky není platný nebo vypršel",
		"v_used":            "Tato poukázka již byla použita",
		"v_not_code":        "Toto není kód poukázky",
		"v_myq_says":        "Tiskový server: %s",
		"v_offline":         "Poukázky vyžadují tiskový server: zkuste to později",
		"v_locked":          "Příliš mnoho neplatných kódů: poukázky jsou pozastaveny na %d min",
		"v_broken":          "Poukázky nejsou k dispozici: obraťte se na obsluhu",
		"v_key_v":           "V: poukázka",
		"v_key_add":         "Enter: přidat poukázku",
		"v_key_submit":      "Enter: ověřit kód",
		"v_key_finish":      "Enter: dokončit",
		"v_receipt_cash":    "Mince a bankovky %s",
		"v_session_total":   "Přidáno v této relaci",
		"v_all_pending_sub": "přijato: brzy se připíše na váš účet",
		"v_receipt_line":    "Poukázka %s (%s)",
		"v_receipt_done":    "Poukázka %s (%s): již připsána",
		"v_receipt_pending": "Poukázka %s (%s): připisuje se",
	},
	"de": {
		"v_offer_scan":      "Gutschein scannen oder Code eingeben (V)",
		"v_card_first":      "Zuerst die Karte an das Lesegerät halten, dann den Gutschein scannen",
		"v_type":            "Gutscheincode:",
		"v_type_help":       "Code eingeben und Enter drücken",
		"v_checking":        "Gutschein wird geprüft…",
		"v_worth":           "Gutschein über %s: Enter zum Aufladen, Esc zum Abbrechen",
		"v_adding":          "Gutschein wird aufgeladen (%s)…",
		"v_offer_ends":      "Ohne Enter innerhalb von %d s wird er nicht aufgeladen",
		"v_added":           "Gutschein über %s aufgeladen",
		"v_pending":         "Gutschein über %s angenommen: das Guthaben folgt in Kürze",
		"v_credited":        "Gutscheine aufgeladen: %d (%s)",
		"v_invalid":         "Dieser Gutscheincode ist ungültig oder abgelaufen",
		"v_used":            "Dieser Gutschein wurde bereits eingelöst",
		"v_not_code":        "Das ist kein Gutscheincode",
		"v_myq_says":        "Druckserver: %s",
		"v_offline":         "Gutscheine brauchen den Druckserver: bitte später erneut versuchen",
		"v_locked":          "Zu viele ungültige Codes: Gutscheine sind für %d min gesperrt",
		"v_broken":          "Gutscheine sind nicht verfügbar: bitte wenden Sie sich an das Personal",
		"v_key_v":           "V: Gutschein",
		"v_key_add":         "Enter: aufladen",
		"v_key_submit":      "Enter: Code prüfen",
		"v_key_finish":      "Enter: fertig",
		"v_receipt_cash":    "Münzen und Scheine %s",
		"v_session_total":   "In dieser Sitzung gutgeschrieben",
		"v_all_pending_sub": "angenommen: wird Ihrem Konto in Kürze gutgeschrieben",
		"v_receipt_line":    "Gutschein %s (%s)",
		"v_receipt_done":    "Gutschein %s (%s): bereits gutgeschrieben",
		"v_receipt_pending": "Gutschein %s (%s): wird gutgeschrieben",
	},
}
