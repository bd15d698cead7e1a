package journal

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// seqd numbers records 1.. as Append would.
func seqd(recs ...Record) []Record {
	out := make([]Record, len(recs))
	for i, r := range recs {
		r.Seq = uint64(i + 1)
		out[i] = r
	}
	return out
}

func TestLedgerRefusesWhatDoesNotFit(t *testing.T) {
	tests := []struct {
		name   string
		recs   []Record
		wantIn string
	}{
		{"credit to unknown session", []Record{rCredit("x", "c", "1", 10, 0)}, "unknown session"},
		{"credit to finished session", []Record{rOpen("a", 1), rCredit("a", "c", "1", 10, 0), rFinish("a", 10), rCredit("a", "c", "1", 10, 0)}, "pending, not open"},
		{"negative credit", []Record{rOpen("a", 1), rCredit("a", "c", "1", -10, 0)}, "out of range"},
		{"finish total mismatch", []Record{rOpen("a", 1), rCredit("a", "c", "1", 10, 0), rFinish("a", 20)}, "money is 10"},
		{"finish with no money", []Record{rOpen("a", 1), rFinish("a", 0)}, "no money"},
		{"cancel with money", []Record{rOpen("a", 1), rCredit("a", "c", "1", 10, 0), rCancel("a")}, "cannot cancel"},
		{"cancel with a note in escrow", []Record{rOpen("a", 1), rEscrow("a", "b", "n1", 500), rCancel("a")}, "escrow"},
		{"payment for unknown session", []Record{rPayment("x", "p")}, "unknown session"},
		{"payment for open session", []Record{rOpen("a", 1), rPayment("a", "p")}, "not pending"},
		{"commit twice", []Record{rOpen("a", 1), rCredit("a", "c", "1", 10, 0), rFinish("a", 10), rCommitted("a", "p"), rCommitted("a", "p")}, "committed, not pending"},
		{"open twice", []Record{rOpen("a", 1), rOpen("a", 1)}, "opened twice"},
		{"claim of claimed cash", []Record{rUnclaimed("p", "1", 10), rOpen("a", 1), rClaim("a", 10, 1), rOpen("b", 1), rClaim("b", 10, 1)}, "already claimed"},
		{"claim of a credit", []Record{rOpen("a", 1), rCredit("a", "c", "1", 10, 0), rClaim("a", 10, 2)}, "not unclaimed"},
		{"claim amount wrong", []Record{rUnclaimed("p", "1", 10), rOpen("a", 1), rClaim("a", 11, 1)}, "sum to 10"},
		{"return of unknown note", []Record{rOpen("a", 1), rReturned("a", "b", "n9")}, "not in escrow"},
		{"note escrowed twice", []Record{rOpen("a", 1), rEscrow("a", "b", "n1", 500), rEscrow("a", "b", "n1", 500)}, "already in escrow"},
		{"unclaimed note of a session still open", []Record{rOpen("a", 1), rEscrow("a", "b", "n1", 500), rLateNote("b", "n1", 500)}, "still open"},
		{"no data", []Record{{Kind: KindCredit, Session: "a"}}, "credit"},
		{"unknown kind", []Record{{Kind: "refund"}}, "unknown kind"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := NewLedger()
			recs := seqd(tc.recs...)
			var err error
			for _, r := range recs {
				if err = l.Apply(r); err != nil {
					if r.Seq != uint64(len(recs)) {
						t.Fatalf("refused record %d early: %v", r.Seq, err)
					}
					break
				}
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantIn) {
				t.Fatalf("err %v, want it to mention %q", err, tc.wantIn)
			}
			if !strings.Contains(err.Error(), "record ") {
				t.Errorf("error %q does not name the record", err)
			}
		})
	}
}

func TestLedgerQueries(t *testing.T) {
	l := ledgerOf(t, seqd(
		rUnclaimed("pulse", "5", 50),         // 1
		rOpen("a", 0),                        // 2 offline
		rClaim("a", 50, 1),                   // 3
		rCredit("a", "coins", "10", 100, 4),  // 4
		rEscrow("a", "bills", "n1", 500),     // 5
		rCredit("a", "bills", "1", 500, 0),   // 6 (no note id: plain credit)
		rOpen("b", 2),                        // 7
		rCredit("b", "coins", "10", 100, 5),  // 8
		rFinish("b", 100),                    // 9
		rFinish("a", 650),                    // 10: a finishes after b
		rPayment("a", "pa"),                  // 11
		rAttention("a", "provider disabled"), // 12
		New(KindUserResolved, "a", at(1), UserResolved{UserID: 42}), // 13
		rPayment("b", "pb1"),                // 14
		rDropped("b", "pb1"),                // 15
		rOpen("c", 3),                       // 16
		rUnclaimed("pulse", "10", 100),      // 17
		rCounter("cctalk", 17),              // 18
		rUnrecognised("coins"),              // 19
		rOpen("d", 4),                       // 20
		rCredit("d", "coins", "10", 100, 6), // 21
		rFinish("d", 100),                   // 22
		rPayment("d", "pd"),                 // 23
		rCommitted("d", "pd"),               // 24
		rOpen("e", 5),                       // 25
		rCancel("e"),                        // 26
	))
	if o := l.OpenSessions(); len(o) != 1 || o[0].ID != "c" || o[0].Total != 0 {
		t.Errorf("open sessions %+v", o)
	}
	p := l.Pending()
	if len(p) != 2 || p[0].ID != "b" || p[1].ID != "a" {
		t.Fatalf("pending %+v, want b then a (finish order)", p)
	}
	if p[1].PaymentID != "pa" || p[1].Attention != "provider disabled" || p[1].UserID != 42 {
		t.Errorf("pending a: %+v", p[1])
	}
	if p[0].PaymentID != "" {
		t.Errorf("dropped payment still current: %+v", p[0])
	}
	if u := l.Unclaimed(); len(u) != 1 || u[0].Seq != 17 || u[0].Credit.Amount != 100 {
		t.Errorf("unclaimed %+v", u)
	}
	if n := l.PendingNotes(); len(n) != 1 || n[0].NoteID != "n1" || n[0].Session != "a" {
		t.Errorf("pending notes %+v (the plain credit does not settle a note)", n)
	}
	if c := l.Counters(); c["coins"] != 6 || c["cctalk"] != 17 {
		t.Errorf("counters %v", c)
	}
	cash := l.Cash()
	want := CashTotals{Accepted: 50 + 100 + 500 + 100 + 100 + 100, Committed: 100, Pending: 100, Attention: 650, Unclaimed: 100,
		Unrecognised: 1, Pieces: map[string]int64{"pulse:5": 1, "pulse:10": 1, "coins:10": 3, "bills:1": 1}}
	// The 6.50 session needs attention: the cash-up shows it apart (issue 11).
	if cash.Accepted != want.Accepted || cash.Committed != want.Committed || cash.Pending != want.Pending || cash.Attention != want.Attention ||
		cash.Unclaimed != want.Unclaimed || cash.InSession != 0 || cash.Unrecognised != 1 || len(cash.Pieces) != 4 ||
		cash.Pieces["coins:10"] != 3 {
		t.Errorf("cash %+v, want %+v", cash, want)
	}
	if c := l.Committed(5); len(c) != 1 || c[0].ID != "d" || c[0].Reference != "kiosk/d" || c[0].Amount != 100 || c[0].PaymentID != "pd" {
		t.Errorf("committed %+v", c)
	}
	if s, ok := l.Session("e"); !ok || s.State != StateCancelled {
		t.Errorf("session e: %+v %v", s, ok)
	}
	if s, ok := l.Session("a"); !ok || s.State != StatePending || s.Total != 650 || s.Finish.Reference != "kiosk/a" {
		t.Errorf("session a: %+v", s)
	}
	if _, ok := l.Session("nope"); ok {
		t.Error("unknown session found")
	}

	// A cash-up restarts the totals; what is still owed stays owed.
	if err := l.Apply(withSeq(rCashup(), 27)); err != nil {
		t.Fatal(err)
	}
	if c := l.Cash(); c.Accepted != 0 || c.Pending != 0 || c.Unrecognised != 0 || len(l.Pending()) != 2 || len(l.Unclaimed()) != 1 {
		t.Errorf("after cash-up: %+v", c)
	}
	if err := l.Apply(withSeq(rCredit("c", "coins", "10", 100, 7), 28)); err != nil {
		t.Fatal(err)
	}
	if c := l.Cash(); c.Accepted != 100 || c.InSession != 100 {
		t.Errorf("after cash-up and a coin: %+v", c)
	}
	// The compacted form of this state answers the same.
	recs, nl, err := l.compacted(29, at(30))
	if err != nil {
		t.Fatal(err)
	}
	sameLedger(t, l, nl)
	sameLedger(t, l, ledgerOf(t, recs))
}

func rLateNote(dev, note string, amt int64) Record {
	return New(KindUnclaimed, "", at(15), Credit{Device: dev, Key: "1", Amount: amt, NoteID: note})
}

// TestLedgerLateNoteBecomesUnclaimed: a note credited after its session was
// finished is unclaimed cash that settles the escrow; the cash-up counts it
// once, and compaction and replay agree.
func TestLedgerLateNoteBecomesUnclaimed(t *testing.T) {
	// Session a: a coin of 100, a note of 500 in escrow, finished at 100
	// before the validator settled the note.
	base := []Record{rOpen("a", 1), rCredit("a", "coins", "10", 100, 0), rEscrow("a", "bills", "n1", 500), rFinish("a", 100)}
	tests := []struct {
		name          string
		recs          []Record
		wantAccepted  int64 // Cash().Accepted: every piece once
		wantUnclaimed int64 // Cash().Unclaimed
		wantPending   int64
		wantCommitted int64
		wantInSession int64
		wantClaimable int // len(Unclaimed())
	}{
		{"session pending", append(slices.Clone(base), rLateNote("bills", "n1", 500)), 600, 500, 100, 0, 0, 1},
		{"session committed", append(slices.Clone(base), rPayment("a", "p"), rCommitted("a", "p"), rLateNote("bills", "n1", 500)),
			600, 500, 0, 100, 0, 1},
		{"committed, then claimed by the next card", append(slices.Clone(base), rPayment("a", "p"), rCommitted("a", "p"),
			rLateNote("bills", "n1", 500), rOpen("b", 2), rClaim("b", 500, 7)), 600, 0, 0, 100, 500, 0},
		{"claimed and booked, a still pending", append(slices.Clone(base), rLateNote("bills", "n1", 500), rOpen("b", 2),
			rClaim("b", 500, 5), rFinish("b", 500), rPayment("b", "pb"), rCommitted("b", "pb")), 600, 0, 100, 500, 0, 0},
		{"claimed by a session compaction folds, a still pending", append(append(slices.Clone(base), rLateNote("bills", "n1", 500),
			rOpen("b", 2), rClaim("b", 500, 5), rFinish("b", 500), rPayment("b", "pb"), rCommitted("b", "pb")),
			bookedSessions(keepCommitted, 10)...), 600 + keepCommitted*10, 0, 100, 500 + keepCommitted*10, 0, 0},
		{"sessionless escrow", []Record{rEscrow("", "bills", "n1", 500), rLateNote("bills", "n1", 500)}, 500, 500, 0, 0, 0, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := ledgerOf(t, seqd(tc.recs...))
			if n := l.PendingNotes(); len(n) != 0 {
				t.Errorf("note still pending after its late credit: %+v", n)
			}
			if u := l.Unclaimed(); len(u) != tc.wantClaimable {
				t.Errorf("unclaimed %+v, want %d", u, tc.wantClaimable)
			} else if len(u) == 1 && (u[0].Credit.NoteID != "n1" || u[0].Credit.Amount != 500) {
				t.Errorf("unclaimed %+v", u)
			}
			checkCashIdentity(t, l)
			c := l.Cash()
			wantAccepted := c.Committed + c.Pending + c.InSession + c.Unclaimed
			if wantAccepted != tc.wantAccepted {
				t.Errorf("accepted %d, want %d (every piece once)", c.Accepted, tc.wantAccepted)
			}
			if c.Unclaimed != tc.wantUnclaimed || c.Pending != tc.wantPending || c.Committed != tc.wantCommitted ||
				c.InSession != tc.wantInSession || c.Accepted != tc.wantAccepted {
				t.Errorf("cash %+v, want accepted %d unclaimed %d pending %d committed %d in session %d", c, tc.wantAccepted,
					tc.wantUnclaimed, tc.wantPending, tc.wantCommitted, tc.wantInSession)
			}
			if c.Pieces["bills:1"] != 1 {
				t.Errorf("the note is not counted once: %+v", c.Pieces)
			}
			// Compaction (which may fold the session and its escrow record)
			// keeps what the settlement means.
			recs, nl, err := l.compacted(l.LastSeq()+1, at(40))
			if err != nil {
				t.Fatal(err)
			}
			sameLedger(t, l, nl)
			sameLedger(t, l, ledgerOf(t, recs))
		})
	}
}

// bookedSessions is n sessions of amount each, committed.
func bookedSessions(n int, amount int64) []Record {
	var out []Record
	for i := range n {
		id := fmt.Sprintf("z%d", i)
		out = append(out, rOpen(id, 9), rCredit(id, "coins", "10", amount, 0), rFinish(id, amount), rPayment(id, "p"+id), rCommitted(id, "p"+id))
	}
	return out
}

func TestSessionStateString(t *testing.T) {
	for s, want := range map[SessionState]string{StateOpen: "open", StatePending: "pending", StateCommitted: "committed", StateCancelled: "cancelled", 9: "SessionState(9)"} {
		if s.String() != want {
			t.Errorf("%d: %q", int(s), s.String())
		}
	}
}

// A swallowed ccTalk coin is journaled as unrecognised with its event
// counter: the restart resumes after it, and the cash-up counts it once.
func TestUnrecognisedCarriesTheCounter(t *testing.T) {
	recs := seqd(
		rOpen("a", 1),
		rCredit("a", "cctalk", "3", 100, 8),
		New(KindUnrecognised, "", at(2), Unrecognised{Device: "cctalk", What: "swallowed coin", Counter: 9}),
		rUnrecognised("pulse"),
	)
	l := ledgerOf(t, recs)
	if c := l.Counters(); c["cctalk"] != 9 {
		t.Fatalf("counters %v: the unrecognised event's counter must be the last processed", c)
	}
	if _, ok := l.Counters()["pulse"]; ok {
		t.Errorf("a pulse acceptor has no counter: %v", l.Counters())
	}
	if got := l.Cash().Unrecognised; got != 2 {
		t.Errorf("unrecognised %d, want 2", got)
	}
}

// TestLedgerCloneIsIndependent: a clone shares its sessions' slices with
// the original (see sess.clone); whatever either applies afterwards, a late
// note that drops an escrow record included, the other must not see.
func TestLedgerCloneIsIndependent(t *testing.T) {
	w := newWorkload(11)
	var recs []Record
	for len(recs) < 1500 {
		recs = append(recs, w.next(uint64(len(recs)+1))...)
		for i := range recs {
			recs[i].Seq = uint64(i + 1)
		}
	}
	recs = append(recs, rOpen("late", 1), rCredit("late", "coins", "10", 100, 0),
		rEscrow("late", "bills", "late-n", 500), rFinish("late", 100), rLateNote("bills", "late-n", 500))
	recs = seqd(recs...)
	same := func(t *testing.T, want, got *Ledger) {
		t.Helper()
		sameLedger(t, want, got)
		if !reflect.DeepEqual(want.Live(), got.Live()) {
			t.Errorf("live records differ")
		}
		for id := range want.sessions {
			w, _ := want.Session(id)
			g, _ := got.Session(id)
			if !reflect.DeepEqual(w, g) {
				t.Errorf("session %s differs:\nwant %+v\n got %+v", id, w, g)
			}
		}
	}
	for _, cut := range []int{1, 10, 200, 777, 1400, len(recs) - 2, len(recs) - 1} {
		for _, applyToClone := range []bool{false, true} {
			t.Run(fmt.Sprintf("cut %d, clone applies %v", cut, applyToClone), func(t *testing.T) {
				l := ledgerOf(t, recs[:cut])
				c := l.Clone()
				moving, still := l, c
				if applyToClone {
					moving, still = c, l
				}
				for _, r := range recs[cut:] {
					if err := moving.Apply(r); err != nil {
						t.Fatal(err)
					}
				}
				same(t, ledgerOf(t, recs[:cut]), still)
				same(t, ledgerOf(t, recs), moving)
			})
		}
	}
}
