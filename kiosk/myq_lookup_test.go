package kiosk

import (
	"testing"
	"time"

	"github.com/printroom/voucherkiosk/devices"
)

// A card of an inactive MyQ account is refused like an unknown card, and
// the state says why, so the screen can send the student to the staff; the
// next unknown card is not called inactive.
func TestInactiveAccount(t *testing.T) {
	h := newHarness(t, testConfig())
	lc, _ := find[LookupCard](h.do(devices.CardRead{Device: "card", Number: "0004417823"}))
	h.do(LookupResult{SessionID: lc.SessionID, Card: "0004417823", NotFound: true, Inactive: true})
	if st := h.st(); st.Phase != PhaseNotRegistered || !st.Inactive {
		t.Fatalf("phase %v inactive %v, want not registered and inactive", st.Phase, st.Inactive)
	}
	lc, _ = find[LookupCard](h.do(devices.CardRead{Device: "card", Number: "0009999999"}))
	h.do(LookupResult{SessionID: lc.SessionID, Card: "0009999999", NotFound: true})
	if st := h.st(); st.Phase != PhaseNotRegistered || st.Inactive {
		t.Fatalf("unknown card: phase %v inactive %v", st.Phase, st.Inactive)
	}
}

// The receipt's new balance costs no request: the balance MyQ gave at the
// lookup plus the amount, "about" when the commit came late (from the
// queue), when other activity may have changed the account meanwhile.
func TestReceiptBalanceIsBeforePlusAmount(t *testing.T) {
	for _, late := range []bool{false, true} {
		h := newHarness(t, testConfig())
		h.open("1", &alice) // balance 12.50 from the lookup
		h.coin(200)
		b, _ := find[Book](h.do(KeyPress{KeyEnter}))
		if late {
			h.adv(8 * time.Second)
			if h.st().Phase != PhaseSavedOffline {
				t.Fatalf("phase %v, want saved offline", h.st().Phase)
			}
		}
		h.do(BookingResult{SessionID: b.SessionID, Committed: true})
		st := h.st()
		if st.Phase != PhaseCredited || st.Receipt == nil || st.Receipt.NewBalance == nil {
			t.Fatalf("late=%v: phase %v receipt %+v", late, st.Phase, st.Receipt)
		}
		if *st.Receipt.NewBalance != 1450 || st.Receipt.BalanceAbout != late {
			t.Errorf("late=%v: new balance %d about=%v, want 1450 about=%v", late, *st.Receipt.NewBalance, st.Receipt.BalanceAbout, late)
		}
	}
}
