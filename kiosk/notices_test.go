package kiosk

import (
	"errors"
	"testing"
	"time"

	"github.com/printroom/voucherkiosk/devices"
)

func TestEscWithMoneySaysWhy(t *testing.T) {
	h := newHarness(t, testConfig())
	h.open("111", &alice)
	h.coin(200)
	h.do(KeyPress{Key: KeyEsc})
	st := h.st()
	if st.Phase != PhaseSession || st.Total != 200 || st.Notice != NoticeEscRefused {
		t.Fatalf("after Esc with money: phase %v total %d notice %v, want the session kept and esc refused", st.Phase, st.Total, st.Notice)
	}
	h.adv(NoticeFor)
	if st := h.st(); st.Notice != NoticeNone {
		t.Errorf("notice %v still shown after %v", st.Notice, NoticeFor)
	}
}

func TestSecondCardIsAnswered(t *testing.T) {
	h := newHarness(t, testConfig())
	h.open("111", &alice)
	h.coin(100)
	if cmds := h.do(devices.CardRead{Device: "card", Number: "222"}); len(cmds) != 0 {
		t.Fatalf("second card gave commands %#v", cmds)
	}
	if st := h.st(); st.Notice != NoticeSecondCard || st.Card != devices.MaskCard("111") {
		t.Errorf("notice %v card %q, want second card ignored on the first card's session", st.Notice, st.Card)
	}
	// The same card again is no news.
	h.adv(NoticeFor)
	h.do(devices.CardRead{Device: "card", Number: "111"})
	if st := h.st(); st.Notice != NoticeNone {
		t.Errorf("same card again: notice %v", st.Notice)
	}
}

func TestUnrecognisedCoinShownUntilIdle(t *testing.T) {
	h := newHarness(t, testConfig())
	h.open("111", &alice)
	h.coin(200)
	h.do(devices.UnrecognisedCash{Device: "coins", What: "7 pulses", At: h.now})
	if st := h.st(); st.Unrecognised != 1 {
		t.Fatalf("Unrecognised = %d, want 1", st.Unrecognised)
	}
	h.do(KeyPress{Key: KeyEnter})
	if st := h.st(); st.Phase != PhaseBooking || st.Unrecognised != 1 {
		t.Fatalf("booking: phase %v unrecognised %d: the receipt must still say it", st.Phase, st.Unrecognised)
	}
	h.adv(8 * time.Second) // no booking result: saved offline
	if st := h.st(); st.Phase != PhaseSavedOffline || st.Unrecognised != 1 {
		t.Fatalf("receipt: phase %v unrecognised %d", st.Phase, st.Unrecognised)
	}
	h.do(KeyPress{Key: KeyEnter})
	if st := h.st(); st.Phase != PhaseIdle || st.Unrecognised != 0 {
		t.Errorf("next student: phase %v unrecognised %d, want idle and 0", st.Phase, st.Unrecognised)
	}
}

func TestReceiptDismissedByEnterOnly(t *testing.T) {
	h := newHarness(t, testConfig())
	h.open("111", &alice)
	h.coin(200)
	h.do(KeyPress{Key: KeyEnter})
	h.adv(8 * time.Second)
	for _, k := range []Key{KeyEsc, KeyMore} {
		h.do(KeyPress{Key: k})
		if st := h.st(); st.Phase != PhaseSavedOffline {
			t.Fatalf("%v dismissed the receipt (phase %v)", k, st.Phase)
		}
	}
	h.do(KeyPress{Key: KeyEnter})
	if st := h.st(); st.Phase != PhaseIdle {
		t.Errorf("Enter: phase %v, want idle", st.Phase)
	}
}

func TestMoreTimeRestartsTheCountdown(t *testing.T) {
	h := newHarness(t, testConfig())
	h.open("111", &alice)
	h.adv(25 * time.Second)
	close1 := h.st().CloseAt
	h.do(KeyPress{Key: KeyMore})
	if st := h.st(); !st.CloseAt.Equal(h.now.Add(30*time.Second)) || !st.CloseAt.After(close1) {
		t.Fatalf("CloseAt %v (was %v), want 30 s from now", st.CloseAt, close1)
	}
	h.coin(200)
	h.adv(15 * time.Second)
	h.do(KeyPress{Key: KeyMore})
	if st := h.st(); !st.FinishAt.Equal(h.now.Add(20 * time.Second)) {
		t.Errorf("FinishAt %v, want 20 s from now", st.FinishAt)
	}
}

func TestOfflineAsSoonAsLookupFails(t *testing.T) {
	h := newHarness(t, testConfig())
	h.do(QueueUpdate{QueueStatus{Online: true}})
	cmds := h.do(devices.CardRead{Device: "card", Number: "111"})
	lc, _ := find[LookupCard](cmds)
	h.do(LookupResult{SessionID: lc.SessionID, Card: "111", Err: errors.New("dial tcp: connection refused")})
	if st := h.st(); st.Queue.Online {
		t.Fatal("MyQ unreachable at card read, yet the state says online")
	}
	h.do(QueueUpdate{QueueStatus{Online: true}})
	if st := h.st(); !st.Queue.Online {
		t.Error("the queue reached MyQ again, yet the state says offline")
	}
}

func TestNotRegisteredKeepsAcceptorsInhibited(t *testing.T) {
	h := newHarness(t, testConfig())
	h.open("111", &alice)
	if !h.e.accepting {
		t.Fatal("a session does not enable the acceptors")
	}
	h.do(KeyPress{Key: KeyEsc}) // no money: the session closes
	h.open("999", nil)
	if st := h.st(); st.Phase != PhaseNotRegistered {
		t.Fatalf("phase %v, want not registered", st.Phase)
	}
	if h.e.accepting {
		t.Error("acceptors enabled while the screen says the card is not registered")
	}
}

// After an outage the booking queue goes on saying offline until its next
// retry, and repeats it with every status (a new top-up queued). A card
// lookup that reached MyQ since is newer news: the badge must go.
func TestOnlineAgainWhenALookupGetsThrough(t *testing.T) {
	h := newHarness(t, testConfig())
	h.do(QueueUpdate{QueueStatus{Online: true}})
	h.do(QueueUpdate{QueueStatus{Online: false, Pending: 1}})
	if h.st().Queue.Online {
		t.Fatal("the queue lost MyQ, yet the state says online")
	}
	h.open("111", &alice)
	if !h.st().Queue.Online {
		t.Error("a lookup reached MyQ, yet the state says offline")
	}
	h.do(QueueUpdate{QueueStatus{Online: false, Pending: 2}}) // the same stale word, repeated
	if !h.st().Queue.Online {
		t.Error("a repeated stale 'offline' from the queue hid a lookup that got through")
	}
	h.do(QueueUpdate{QueueStatus{Online: true, Pending: 0}})
	h.do(QueueUpdate{QueueStatus{Online: false, Pending: 1}}) // a fresh failure
	if h.st().Queue.Online {
		t.Error("a fresh failure of the queue not shown")
	}
}
