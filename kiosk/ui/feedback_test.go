package ui

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"

	"github.com/printroom/voucherkiosk/devices"
	"github.com/printroom/voucherkiosk/kiosk"
	"github.com/printroom/voucherkiosk/kiosk/receipt"
)

func (h *harness) bellsRung() int {
	var n int
	h.onLoop(func() { n = h.u.rung })
	return n
}

func TestBellsOnMoney(t *testing.T) {
	h := startUI(t, 80, 24, nil)
	st := kiosk.State{Phase: kiosk.PhaseSession, SessionID: "s1", User: jana, Total: 0, CloseAt: testNow.Add(30 * time.Second), Queue: online}
	h.show(st)
	if n := h.bellsRung(); n != 0 {
		t.Fatalf("%d bells before any money", n)
	}
	st.Total, st.CloseAt, st.FinishAt = 100, time.Time{}, testNow.Add(20*time.Second)
	h.show(st)
	h.waitFor("one bell for a coin", func() bool { return h.u.rung == 1 })
	st.Unrecognised = 1
	h.show(st)
	h.waitFor("two more bells for a coin not recognised", func() bool { return h.u.rung == 3 })
	h.waitText("A coin was not recognised: keep your receipt and ask the staff.")
	// A new state with nothing new rings nothing.
	h.show(st)
	if n := h.bellsRung(); n != 3 {
		t.Errorf("%d bells after a state with no news, want 3", n)
	}
}

func TestLastTenSecondsWarn(t *testing.T) {
	h := startUI(t, 80, 24, func(_ *Options, u *UI) {
		if u != nil {
			u.tickEvery = 20 * time.Millisecond
		}
	})
	h.show(kiosk.State{Phase: kiosk.PhaseSession, SessionID: "s1", User: jana, CloseAt: testNow.Add(15 * time.Second), Queue: online})
	h.waitText("Session ends in 15 s")
	if strings.Contains(h.text(), "Need more time?") {
		t.Fatal("warning shown 15 s before the end")
	}
	h.clock.add(6 * time.Second)
	h.waitText("Need more time? Press any key")
	h.waitFor("one bell at the warning", func() bool { return h.u.rung == 1 })
	// The countdown line changes colour.
	cells, w, _ := h.cells()
	row := -1
	for i := range cells {
		if i%w == 0 && strings.Contains(cellsText(cells[i:i+w], w, 1), "Session ends in 9 s") {
			row = i / w
		}
	}
	if row < 0 {
		t.Fatalf("no countdown line:\n%s", h.text())
	}
	if _, bg, _ := cells[row*w+w/2].Style.Decompose(); bg == tcell.ColorBlack {
		t.Errorf("countdown line in the last 10 s has the normal background")
	}
	// Any key asks the engine for more time; the bell does not ring again
	// for the same deadline.
	h.key(tcell.KeyRune, 'x', tcell.ModNone)
	h.waitFor("KeyMore at the engine", func() bool { return slices.Contains(h.eng.gotKeys(), kiosk.KeyMore) })
	h.clock.add(time.Second)
	h.waitText("Session ends in 8 s")
	if n := h.bellsRung(); n != 1 {
		t.Errorf("%d bells, want 1 per deadline", n)
	}
}

func TestStrayKeyOutsideSessionSendsNothing(t *testing.T) {
	h := startUI(t, 80, 24, nil)
	h.show(kiosk.State{Phase: kiosk.PhaseCredited, User: jana, Total: 100, Receipt: testReceipt(), Queue: online})
	h.key(tcell.KeyRune, 'x', tcell.ModNone)
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitFor("enter", func() bool { return len(h.eng.gotKeys()) > 0 })
	if got := h.eng.gotKeys(); !slices.Equal(got, []kiosk.Key{kiosk.KeyEnter}) {
		t.Errorf("engine got %v, want only enter", got)
	}
}

// demoFooter is the demo's footer (cmd/kioskd/demo.go) as the UI sees it.
func demoFooter() []FooterKey {
	do := func() {}
	return []FooterKey{
		{Key: tcell.KeyF2, Label: "Jane", Do: do}, {Key: tcell.KeyF3, Label: "Petr", Do: do},
		{Key: tcell.KeyF4, Label: "unknown", Do: do}, {Key: tcell.KeyF5, Label: "0.50", Do: do},
		{Key: tcell.KeyF6, Label: "1.00", Do: do}, {Key: tcell.KeyF7, Label: "2.00", Do: do},
		{Key: tcell.KeyF8, Label: "note 5.00", Do: do}, {Key: tcell.KeyF9, Label: "outage", Do: do},
		{Key: tcell.KeyF10, Label: "technician (PIN 1234)", ShowOnly: true},
		{Key: tcell.KeyEscape, Label: "cancel", ShowOnly: true},
		{Key: tcell.KeyF12, Label: "quit demo", Do: do},
	}
}

func TestDemoFooterFits80x24(t *testing.T) {
	h := startUI(t, 80, 24, func(o *Options, _ *UI) {
		if o != nil {
			o.Footer = demoFooter()
		}
	})
	for _, st := range []kiosk.State{
		{Phase: kiosk.PhaseIdle, Accepted: accepted, Queue: online},
		{Phase: kiosk.PhaseSession, User: jana, CloseAt: testNow.Add(20 * time.Second), Queue: online},
	} {
		h.show(st)
		txt := h.text()
		for _, f := range demoFooter() {
			if want := keyName(f.Key, f.Rune) + " " + f.Label; !strings.Contains(txt, want) {
				t.Errorf("%v: footer lacks %q:\n%s", st.Phase, want, txt)
			}
		}
		for _, l := range strings.Split(txt, "\n") {
			if width(l) > 79 {
				t.Errorf("line of %d columns: %q", width(l), l)
			}
		}
		if strings.Count(txt, "Esc") != 1 {
			t.Errorf("Esc named %d times:\n%s", strings.Count(txt, "Esc"), txt)
		}
	}
	// F10 and Esc stay the UI's own: shown, not run.
	before := h.text()
	h.key(tcell.KeyF10, 0, tcell.ModNone)
	if after := h.text(); strings.Contains(after, "PIN:") || !strings.Contains(after, "Insert coins or notes") {
		t.Errorf("F10 with no technician menu configured changed the screen:\n%s\nwas:\n%s", after, before)
	}
}

func TestShowOnlyFooterKeyHasNoAction(t *testing.T) {
	_, err := New(Options{Engine: newChanEngine(), Currency: "EUR", ReceiptKey: testKey,
		Footer: []FooterKey{{Key: tcell.KeyF10, Label: "technician", ShowOnly: true, Do: func() {}}}})
	if err == nil {
		t.Error("a shown-only key with an action was accepted")
	}
}

func TestHighContrastPalette(t *testing.T) {
	for _, hc := range []bool{false, true} {
		h := startUI(t, 80, 24, func(o *Options, _ *UI) {
			if o != nil {
				o.HighContrast = hc
			}
		})
		h.show(kiosk.State{Phase: kiosk.PhaseSession, User: jana, Total: 1250, FinishAt: testNow.Add(15 * time.Second)})
		cells, w, ht := h.cells()
		checkPalette(t, "high contrast", cells, w, ht)
		// The greeting: plain silver normally, bold in high contrast.
		var found bool
		for _, c := range cells {
			if len(c.Runes) > 0 && c.Runes[0] == 'B' { // "Balance"
				_, _, attr := c.Style.Decompose()
				if bold := attr&tcell.AttrBold != 0; bold != hc {
					t.Errorf("high_contrast=%v: body text bold=%v", hc, bold)
				}
				found = true
				break
			}
		}
		if !found {
			t.Fatal("no balance line")
		}
		h.stop()
	}
}

func TestNotRegisteredNeverInvitesAClaim(t *testing.T) {
	h := startUI(t, 80, 24, nil)
	for lang := range h.u.opts.Languages {
		h.show(kiosk.State{Phase: kiosk.PhaseNotRegistered, Card: "******7823", Unclaimed: 50, Queue: online})
		h.setLang(lang)
		txt := h.text()
		if strings.Contains(txt, "0.50") || strings.Contains(txt, "0,50") {
			t.Errorf("language %d: the not-registered screen mentions the unclaimed money:\n%s", lang, txt)
		}
	}
	if txt := h.text(); !strings.Contains(txt, "Kein Geld einzahlen: Diese Karte ist nicht registriert") {
		t.Errorf("German not-registered headline missing:\n%s", txt)
	}
}

func TestTwoBellsOnARejectedCoin(t *testing.T) {
	h := startUI(t, 80, 24, nil)
	st := kiosk.State{Phase: kiosk.PhaseSession, SessionID: "s1", User: jana, Total: 100, FinishAt: testNow.Add(20 * time.Second), Queue: online,
		Devices: map[string]devices.StatusChange{"coins": {Device: "coins", Status: devices.StatusConnected, At: testNow}}}
	h.show(st)
	st.Devices = map[string]devices.StatusChange{"coins": {Device: "coins", Status: devices.StatusCoinRejected, At: testNow.Add(time.Second)}}
	h.show(st)
	h.waitFor("two bells for a refused coin", func() bool { return h.u.rung == 2 })
	h.show(st) // the same report again: no news
	st.Devices = map[string]devices.StatusChange{"coins": {Device: "coins", Status: devices.StatusCoinRejected, At: testNow.Add(2 * time.Second)}}
	h.show(st) // a second refused coin
	h.waitFor("two more bells", func() bool { return h.u.rung == 4 })
}

// With the demo's footer, a receipt keeps its QR code whole at 80x24: the
// footer gives up the demo keys that do not fit beside "Enter: done".
func TestDemoReceiptQRDecodesAt80x24(t *testing.T) {
	h := startUI(t, 80, 24, func(o *Options, _ *UI) {
		if o != nil {
			o.Footer = demoFooter()
		}
	})
	r := &kiosk.Receipt{Reference: "library-ground-floor/261123-221530-7f3a9c", Amount: 850, At: testNow}
	h.show(kiosk.State{Phase: kiosk.PhaseCredited, User: jana, Total: 850, Receipt: r, Queue: online, MessageUntil: testNow.Add(30 * time.Second)})
	cells, w, ht := h.cells()
	got, err := decodeScreenQR(cells, w, ht)
	if err != nil {
		t.Fatalf("decode: %v\n%s", err, h.text())
	}
	if _, err := receipt.Verify(testKey, got); err != nil {
		t.Errorf("scanned %q: %v", got, err)
	}
	if !strings.Contains(h.text(), "Enter: done (30 s)") {
		t.Errorf("no receipt countdown:\n%s", h.text())
	}
}
