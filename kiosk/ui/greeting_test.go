package ui

import (
	"strings"
	"testing"
	"time"

	"github.com/printroom/voucherkiosk/kiosk"
)

func TestGreetingName(t *testing.T) {
	for _, c := range []struct{ name, mode, want string }{
		{"Jana Nováková", GreetingFull, "Jana Nováková"},
		{"Jana Nováková", "", "Jana Nováková"},
		{"Jana Nováková", GreetingFirst, "Jana"},
		{"Jana Nováková", GreetingInitials, "J. N."},
		{"  Jana   Marie  Nováková ", GreetingInitials, "J. M. N."},
		{"élise dupont", GreetingInitials, "É. D."},
		{"jnovak", GreetingFirst, "jnovak"},
		{"", GreetingFirst, ""},
	} {
		if got := GreetingName(c.name, c.mode); got != c.want {
			t.Errorf("GreetingName(%q, %q) = %q, want %q", c.name, c.mode, got, c.want)
		}
	}
}

// TestScreenObeysGreeting: with greeting "first" and the balance hidden, a
// tapped card shows neither the surname nor the balance, in the session
// and on the receipt.
func TestScreenObeysGreeting(t *testing.T) {
	h := startUI(t, 80, 24, func(o *Options, _ *UI) {
		if o != nil {
			o.Greeting, o.HideBalance = GreetingFirst, true
		}
	})
	for _, st := range []kiosk.State{
		{Phase: kiosk.PhaseSession, User: jana, Card: "******7823", MinTopup: 50, MaxTopup: 5000, Accepted: accepted, Queue: online},
		{Phase: kiosk.PhaseCredited, User: jana, Total: 1250, Receipt: testReceipt(), Queue: online},
	} {
		h.show(st)
		got := h.text()
		if strings.Contains(got, "Nováková") || strings.Contains(got, "3.20") || strings.Contains(got, "15.70") {
			t.Errorf("%s shows the surname or a balance:\n%s", st.Phase, got)
		}
		if !strings.Contains(got, "Jana") {
			t.Errorf("%s lacks the first name:\n%s", st.Phase, got)
		}
	}
}

// TestCardPauseShown: while the engine ignores the card reader, the idle and
// not-registered screens count the pause down.
func TestCardPauseShown(t *testing.T) {
	h := startUI(t, 80, 24, nil)
	h.show(kiosk.State{Phase: kiosk.PhaseNotRegistered, Card: "******0004", Now: testNow, CardPausedUntil: testNow.Add(30 * time.Second), Queue: online})
	h.waitText("the card reader is paused. Please wait 30 s.")
	h.show(kiosk.State{Phase: kiosk.PhaseIdle, Now: testNow.Add(10 * time.Second), CardPausedUntil: testNow.Add(30 * time.Second), Accepted: accepted, Queue: online})
	h.waitText("Please wait 20 s.")
}
