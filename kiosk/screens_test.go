package kiosk

import (
	"testing"

	"github.com/printroom/voucherkiosk/devices"
	"github.com/printroom/voucherkiosk/kiosk/journal"
)

// The screens after a card read must still say which card and whose
// account: a student reads them to know what happened to their money.
func TestMessageScreensKeepCardAndUser(t *testing.T) {
	h := newHarness(t, testConfig())
	h.open("0099999999", nil)
	if st := h.st(); st.Phase != PhaseNotRegistered || st.Card != "******9999" {
		t.Fatalf("not registered: phase %v card %q, want the masked card", st.Phase, st.Card)
	}

	bob := User{ID: 8, Username: "bob", FullName: "Bob Svoboda"}
	h.open("0012345678", &bob)
	h.coin(200)
	cmds := h.do(KeyPress{Key: KeyEnter})
	book, ok := find[Book](cmds)
	if !ok {
		t.Fatalf("Enter gave no Book: %#v", cmds)
	}
	st := h.st()
	if st.Phase != PhaseBooking || st.User == nil || st.User.FullName != "Bob Svoboda" || st.Card != "******5678" {
		t.Fatalf("booking screen: %+v", st)
	}
	h.do(BookingResult{SessionID: book.SessionID, Committed: true})
	st = h.st()
	if st.Phase != PhaseCredited || st.User == nil || st.User.FullName != "Bob Svoboda" {
		t.Fatalf("credited screen lost the user: %+v", st)
	}
	if st.Receipt == nil || st.Receipt.NewBalance != nil {
		t.Fatalf("receipt %+v: the balance has not come yet", st.Receipt)
	}
	// The balance after commit follows the result.
	h.do(BalanceUpdate{SessionID: book.SessionID, Balance: 1450, After: true})
	if st = h.st(); st.Receipt == nil || st.Receipt.NewBalance == nil || *st.Receipt.NewBalance != 1450 {
		t.Fatalf("receipt after the balance came: %+v", st.Receipt)
	}
	// A later result without a balance does not erase it.
	h.do(BookingResult{SessionID: book.SessionID, Committed: true})
	if st = h.st(); st.Receipt.NewBalance == nil || *st.Receipt.NewBalance != 1450 {
		t.Fatalf("balance erased by a second result: %+v", st.Receipt)
	}
}

func TestGreetingBalanceArrivesLater(t *testing.T) {
	h := newHarness(t, testConfig())
	carol := User{ID: 9, Username: "carol", FullName: "Carol Dvořák"}
	h.open("0011112222", &carol)
	st := h.st()
	if st.User == nil || st.User.Balance != nil {
		t.Fatalf("greeting: %+v", st.User)
	}
	// Balances for another session, or the after-commit kind, do not land here.
	h.do(BalanceUpdate{SessionID: "other", Balance: 5})
	h.do(BalanceUpdate{SessionID: st.SessionID, Balance: 7, After: true})
	if u := h.st().User; u.Balance != nil {
		t.Fatalf("a stray balance landed: %d", *u.Balance)
	}
	h.do(BalanceUpdate{SessionID: st.SessionID, Balance: 320})
	if u := h.st().User; u.Balance == nil || *u.Balance != 320 {
		t.Fatalf("greeting balance: %+v", u)
	}
}

func TestUnrecognisedCashJournalsItsCounter(t *testing.T) {
	h := newHarness(t, testConfig())
	h.do(devices.UnrecognisedCash{Device: "coins", What: "swallowed coin", Counter: 12})
	recs := h.tj.kinds(journal.KindUnrecognised)
	if len(recs) != 1 {
		t.Fatalf("unrecognised records: %d", len(recs))
	}
	var u journal.Unrecognised
	if err := recs[0].Decode(&u); err != nil || u.Counter != 12 || u.Device != "coins" {
		t.Fatalf("record %+v, %v", u, err)
	}
}
