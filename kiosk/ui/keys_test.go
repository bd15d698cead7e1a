package ui

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"

	"github.com/printroom/voucherkiosk/kiosk"
)

func TestEnterAndEscReachEngine(t *testing.T) {
	h := startUI(t, 80, 24, nil)
	h.show(kiosk.State{Phase: kiosk.PhaseSession, User: jana, Total: 200, FinishAt: testNow.Add(20 * time.Second), Queue: online})
	h.key(tcell.KeyEscape, 0, tcell.ModNone)
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitFor("two keys at the engine", func() bool { return len(h.eng.gotKeys()) == 2 })
	if got := h.eng.gotKeys(); !slices.Equal(got, []kiosk.Key{kiosk.KeyEsc, kiosk.KeyEnter}) {
		t.Fatalf("engine got %v, want [esc enter]", got)
	}
	// The engine refuses to cancel a session with money: the screen shows
	// what the engine says, still the session.
	h.show(kiosk.State{Phase: kiosk.PhaseSession, User: jana, Total: 200, FinishAt: testNow.Add(20 * time.Second), Queue: online})
	h.waitText("Hello, Jana Nováková")
}

func TestDangerousKeysDoNothing(t *testing.T) {
	h := startUI(t, 80, 24, nil)
	h.show(kiosk.State{Phase: kiosk.PhaseSession, User: jana, Total: 200, Queue: online})
	before := h.text()
	keys := []struct {
		k tcell.Key
		r rune
		m tcell.ModMask
	}{
		{tcell.KeyCtrlC, 0, tcell.ModCtrl}, {tcell.KeyCtrlZ, 0, tcell.ModCtrl}, {tcell.KeyCtrlBackslash, 0, tcell.ModCtrl},
		{tcell.KeyCtrlD, 0, tcell.ModCtrl}, {tcell.KeyCtrlQ, 0, tcell.ModCtrl}, {tcell.KeyCtrlL, 0, tcell.ModCtrl},
		{tcell.KeyTab, 0, tcell.ModNone}, {tcell.KeyF1, 0, tcell.ModNone}, {tcell.KeyRune, 'q', tcell.ModNone},
		{tcell.KeyRune, 'l', tcell.ModNone}, // language only on the idle screen
		{tcell.KeyRune, 'x', tcell.ModAlt}, {tcell.KeyBackspace2, 0, tcell.ModNone},
	}
	for _, k := range keys {
		h.key(k.k, k.r, k.m)
	}
	// A key behind them all: once it arrives, every key before it was handled.
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitFor("enter at the engine", func() bool { return slices.Contains(h.eng.gotKeys(), kiosk.KeyEnter) })
	// In a session a stray key only asks for more time (KeyMore), which
	// changes nothing the student did.
	got := slices.DeleteFunc(h.eng.gotKeys(), func(k kiosk.Key) bool { return k == kiosk.KeyMore })
	if !slices.Equal(got, []kiosk.Key{kiosk.KeyEnter}) {
		t.Fatalf("engine got %v: a key that must do nothing reached it", got)
	}
	select {
	case err := <-h.done:
		h.done <- err
		t.Fatal("the UI stopped on a key")
	default:
	}
	if err := h.u.Ping(context.Background()); err != nil {
		t.Fatalf("ping after the keys: %v", err)
	}
	if after := h.text(); after != before {
		t.Errorf("the screen changed:\n%s", after)
	}
}

func TestLanguageCyclesOnIdleAndResets(t *testing.T) {
	// Key times come from the fake clock: a person's presses are seconds
	// apart (keys 60 ms apart are a wedge scanner's burst, not a person).
	h := startUI(t, 80, 24, func(_ *Options, u *UI) {
		if u != nil {
			u.vin.clock = u.now
		}
	})
	h.show(kiosk.State{Phase: kiosk.PhaseIdle, Accepted: accepted, Queue: online})
	h.waitText("Tap your card")
	h.press(tcell.KeyRune, 'L')
	h.waitText("Přiložte kartu")
	h.clock.add(time.Second)
	h.press(tcell.KeyRune, 'l')
	h.waitText("Karte an das Lesegerät")
	h.clock.add(time.Second)
	h.press(tcell.KeyRune, 'l')
	h.clock.add(time.Second)
	h.press(tcell.KeyRune, 'l')
	h.waitText("Přiložte kartu")
	// A student's session in Czech...
	h.show(kiosk.State{Phase: kiosk.PhaseSession, User: jana, Total: 100, Queue: online})
	h.waitText("Vloženo")
	h.show(kiosk.State{Phase: kiosk.PhaseCredited, User: jana, Total: 100, Receipt: testReceipt(), Queue: online})
	h.waitText("připsáno na váš účet")
	// ...and the next one starts in the default language.
	h.show(kiosk.State{Phase: kiosk.PhaseIdle, Accepted: accepted, Queue: online})
	h.waitText("Tap your card")
	if len(h.eng.gotKeys()) != 0 {
		t.Errorf("language keys reached the engine: %v", h.eng.gotKeys())
	}
}

func TestFooterKeysRunOffLoop(t *testing.T) {
	var taps atomic.Int32
	release := make(chan struct{})
	h := startUI(t, 80, 24, func(o *Options, _ *UI) {
		if o != nil {
			o.Footer = []FooterKey{
				{Key: tcell.KeyF2, Label: "tap card", Do: func() { taps.Add(1) }},
				{Key: tcell.KeyF5, Label: "insert 1.00", Do: func() { <-release }},
			}
		}
	})
	h.show(kiosk.State{Phase: kiosk.PhaseIdle, Accepted: accepted, Queue: online})
	h.waitText("F2 tap card  F5 insert 1.00")
	h.key(tcell.KeyF5, 0, tcell.ModNone) // blocks its goroutine, not the screen
	h.key(tcell.KeyF2, 0, tcell.ModNone)
	h.waitFor("F2 action", func() bool { return taps.Load() == 1 })
	if err := h.u.Ping(context.Background()); err != nil {
		t.Fatalf("a slow footer action blocked the event loop: %v", err)
	}
	close(release)
}

func TestPing(t *testing.T) {
	h := startUI(t, 80, 24, nil)
	h.show(kiosk.State{Phase: kiosk.PhaseIdle, Queue: online})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := h.u.Ping(ctx); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()

	// A stuck event loop fails the ping within the caller's deadline.
	stuck, unstick := make(chan struct{}), make(chan struct{})
	go h.u.app.QueueUpdate(func() { close(stuck); <-unstick })
	<-stuck
	short, cancel2 := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel2()
	if err := h.u.Ping(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("ping of a stuck loop = %v, want deadline exceeded", err)
	}
	close(unstick)
	if err := h.u.Ping(ctx); err != nil {
		t.Errorf("ping after the loop recovered: %v", err)
	}
	h.stop()
	if err := h.u.Ping(ctx); err == nil {
		t.Error("ping after Run returned succeeded")
	}
}

func TestRunEndsWithContextAndRestoresScreen(t *testing.T) {
	h := startUI(t, 80, 24, nil)
	h.show(kiosk.State{Phase: kiosk.PhaseIdle, Queue: online})
	h.stop()
	h.eng.mu.Lock()
	unsub := h.eng.unsub
	h.eng.mu.Unlock()
	if unsub != 1 {
		t.Errorf("subscription ended %d times, want 1", unsub)
	}
	if err := h.u.Run(context.Background()); err == nil {
		t.Error("a second Run was accepted")
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	good := Options{Engine: newChanEngine(), Currency: "EUR", ReceiptKey: testKey}
	cases := map[string]func(*Options){
		"no engine":      func(o *Options) { o.Engine = nil },
		"no currency":    func(o *Options) { o.Currency = "" },
		"short key":      func(o *Options) { o.ReceiptKey = []byte("short") },
		"unknown lang":   func(o *Options) { o.Languages = []string{"en", "fr"} },
		"footer no do":   func(o *Options) { o.Footer = []FooterKey{{Key: tcell.KeyF2, Label: "x"}} },
		"footer takes L": func(o *Options) { o.Footer = []FooterKey{{Key: tcell.KeyRune, Rune: 'l', Label: "x", Do: func() {}}} },
		"footer takes F10": func(o *Options) {
			o.Footer = []FooterKey{{Key: tcell.KeyF10, Label: "x", Do: func() {}}}
		},
	}
	for name, mod := range cases {
		o := good
		mod(&o)
		if _, err := New(o); err == nil || !strings.HasPrefix(err.Error(), "ui: ") {
			t.Errorf("%s: New = %v, want an error", name, err)
		}
	}
	if _, err := New(good); err != nil {
		t.Errorf("good options: %v", err)
	}
}
