package kiosk

import (
	"fmt"
	"testing"
	"time"

	"github.com/printroom/voucherkiosk/devices"
)

func TestCardGuardRule(t *testing.T) {
	g := cardGuard{rule: defaultCardGuard}
	t0 := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	// Four unregistered cards a minute apart never pause: a student who
	// mistypes is not punished.
	for i := range 8 {
		if p := g.unregistered(t0.Add(time.Duration(i) * 61 * time.Second)); p != 0 {
			t.Fatalf("card %d a minute apart paused for %v", i, p)
		}
	}
	now := t0.Add(time.Hour)
	var pauses []time.Duration
	for range 40 {
		for g.paused(now) {
			now = now.Add(time.Second)
		}
		if p := g.unregistered(now); p > 0 {
			pauses = append(pauses, p)
		}
		now = now.Add(100 * time.Millisecond)
	}
	want := []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 15 * time.Minute, 15 * time.Minute, 15 * time.Minute}
	if len(pauses) != len(want) {
		t.Fatalf("pauses %v, want %v", pauses, want)
	}
	for i := range want {
		if pauses[i] != want[i] {
			t.Fatalf("pauses %v, want %v", pauses, want)
		}
	}
	// Quiet for Max: the next pause is short again.
	now = now.Add(30 * time.Minute)
	for range 5 {
		g.unregistered(now)
	}
	if !g.paused(now.Add(29*time.Second)) || g.paused(now.Add(30*time.Second)) {
		t.Fatal("after a quiet spell the pause did not start over at 30 s")
	}
}

// TestEnginePausesCardReader: a card emulator walking through numbers gets
// five lookups, then the reader is ignored (no lookup, nothing on screen)
// for a pause the screen can count down; a registered card after the pause
// works again, and the pause was counted.
func TestEnginePausesCardReader(t *testing.T) {
	cfg := testConfig()
	var pauses, ignored int
	cfg.OnCardPause = func(time.Duration) { pauses++ }
	cfg.OnCardIgnored = func() { ignored++ }
	h := newHarness(t, cfg)
	for i := range 5 {
		h.open(fmt.Sprintf("00000%05d", i), nil)
		h.adv(2 * time.Second)
	}
	st := h.st()
	if pauses != 1 || st.CardPausedUntil.IsZero() || st.CardPausedUntil.Sub(h.now) != 30*time.Second-2*time.Second {
		t.Fatalf("after 5 unregistered cards: pauses %d, paused until %v (now %v)", pauses, st.CardPausedUntil, h.now)
	}
	for i := range 3 {
		cmds := h.do(devices.CardRead{Device: "card", Number: fmt.Sprintf("00001%05d", i)})
		if _, ok := find[LookupCard](cmds); ok {
			t.Fatal("a card was looked up during the pause")
		}
	}
	if ignored != 3 {
		t.Errorf("ignored %d reads, want 3", ignored)
	}
	h.adv(28 * time.Second)
	if !h.st().CardPausedUntil.IsZero() {
		t.Fatal("still paused after the pause")
	}
	h.open("0012345678", &alice)
}
