package kiosk

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/printroom/voucherkiosk/devices"
	"github.com/printroom/voucherkiosk/kiosk/journal"
)

// refusingCheck wraps testJournal to catch a record the real journal's
// ledger refuses: that would be an engine bug (a wrong record), not a disk
// failure.
type propJournal struct {
	*testJournal
	refused []error
	finishs map[string]int
}

func (p *propJournal) Append(recs ...journal.Record) (uint64, error) {
	seq, err := p.testJournal.Append(recs...)
	if err != nil && !errors.Is(err, errDisk) {
		p.refused = append(p.refused, err)
	}
	if err == nil {
		for _, r := range recs {
			if r.Kind == journal.KindFinish {
				p.finishs[r.Session]++
			}
		}
	}
	return seq, err
}

type heldNote struct {
	id, key string
	amount  int64
}

// TestPropertyMoneyConserved drives the engine with random interleavings of
// cards, lookups, coins, notes (stacked and returned), keys, ticks, journal
// failures, booking answers and crashes (the engine rebuilt from the
// journal's ledger), and checks after every step that the journal accounts
// for every coin and note the devices credited: finished + open sessions +
// unclaimed = credited - money held in memory (and, after a crash, the held
// money that died with the process, which the engine logged), and that no
// session is finished twice.
func TestPropertyMoneyConserved(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		cfg := testConfig()
		cfg.NoteWait = 2 * time.Minute
		fs := journal.NewStrictMemFS()
		finishes := map[string]int{}
		var pj *propJournal
		var e *Engine
		now := t0
		ids := 0
		newID := func() string { ids++; return fmt.Sprintf("%04x", ids) }
		var refused []error
		failing := false
		start := func() []Command {
			j, err := journal.Open(journal.Options{FS: fs, Dir: "/state", CompactAfter: -1})
			if err != nil {
				rt.Fatalf("reopen: %v", err)
			}
			pj = &propJournal{testJournal: &testJournal{j: j}, finishs: finishes}
			if failing {
				pj.setFail(errDisk)
			}
			e = NewEngine(cfg, pj, now, newID)
			rs := RestoredFrom(j.Ledger())
			return e.Restore(rs.Open, rs.Unclaimed, rs.PendingNotes)
		}
		defer func() {
			if pj != nil {
				pj.j.Close()
			}
		}()
		var credited, lost int64
		var lookup *LookupCard
		var inEscrow *devices.Escrow
		var stacked []heldNote // notes the validator stacked, credit not yet sent
		noteN := 0
		var books []Book
		apply := func(cmds []Command) {
			for _, c := range cmds {
				switch c := c.(type) {
				case LookupCard:
					lookup = &c
				case Book:
					books = append(books, c)
				case Decide:
					if inEscrow != nil && c.Escrow.NoteID == inEscrow.NoteID && c.Decision == devices.Stack {
						stacked = append(stacked, heldNote{inEscrow.NoteID, inEscrow.Key, inEscrow.Amount})
					}
					inEscrow = nil
				}
			}
		}
		apply(start())
		steps := rapid.IntRange(1, 120).Draw(rt, "steps")
		for i := 0; i < steps; i++ {
			switch rapid.IntRange(0, 13).Draw(rt, "action") {
			case 0:
				apply(e.Handle(devices.CardRead{Device: "card", Number: fmt.Sprint(rapid.IntRange(1, 3).Draw(rt, "card"))}, now))
			case 1:
				if lookup != nil {
					res := LookupResult{SessionID: lookup.SessionID, Card: lookup.Card}
					switch rapid.IntRange(0, 2).Draw(rt, "lookup") {
					case 0:
						res.User = &User{ID: 7, FullName: "A"}
					case 1:
						res.NotFound = true
					case 2:
						res.Err = errors.New("unreachable")
					}
					lookup = nil
					apply(e.Handle(res, now))
				}
			case 2, 3:
				amt := rapid.SampledFrom([]int64{10, 50, 100, 200}).Draw(rt, "coin")
				credited += amt
				apply(e.Handle(devices.Credit{Device: "coins", Key: fmt.Sprint(amt), Amount: amt}, now))
			case 4:
				// A validator holds one note at a time: the next note is read
				// only after the last stacked one was credited (or returned).
				// Two stacked notes awaiting their credits cannot happen, and
				// would make a lost-id repeat of the first indistinguishable
				// from the second's credit.
				if inEscrow == nil && len(stacked) == 0 {
					noteN++
					amt := rapid.SampledFrom([]int64{500, 1000, 2000}).Draw(rt, "note")
					inEscrow = &devices.Escrow{Device: "notes", NoteID: fmt.Sprintf("n%d", noteN), Key: fmt.Sprint(amt), Amount: amt,
						Decide: make(chan devices.EscrowDecision, 1)}
					apply(e.Handle(*inEscrow, now))
				}
			case 5:
				if len(stacked) > 0 {
					k := rapid.IntRange(0, len(stacked)-1).Draw(rt, "which")
					n := stacked[k]
					stacked = append(stacked[:k], stacked[k+1:]...)
					credited += n.amount
					id := n.id
					if rapid.Bool().Draw(rt, "lost id") {
						id = ""
					}
					apply(e.Handle(devices.Credit{Device: "notes", Key: n.key, Amount: n.amount, NoteID: id}, now))
				}
			case 6:
				if len(stacked) > 0 {
					n := stacked[0]
					stacked = stacked[1:]
					apply(e.Handle(devices.NoteReturned{Device: "notes", NoteID: n.id}, now))
				}
			case 7:
				apply(e.Handle(KeyPress{Key: rapid.SampledFrom([]Key{KeyEnter, KeyEsc}).Draw(rt, "key")}, now))
			case 8, 9:
				now = now.Add(time.Duration(rapid.IntRange(1, 40).Draw(rt, "secs")) * time.Second)
				apply(e.Handle(Tick{}, now))
			case 10:
				failing = !failing
				if failing {
					pj.setFail(errDisk)
				} else {
					pj.setFail(nil)
				}
			case 11:
				if len(books) > 0 {
					b := books[0]
					books = books[1:]
					apply(e.Handle(BookingResult{SessionID: b.SessionID, Committed: rapid.Bool().Draw(rt, "committed")}, now))
				}
			case 12:
				// Crash: what was held in memory dies with the process (logged).
				lost += e.HeldMoney()
				refused = append(refused, pj.refused...)
				pj.j.Close()
				lookup, books = nil, nil
				if inEscrow != nil {
					inEscrow = nil // the validator rejects a note nobody answered
				}
				now = now.Add(time.Second)
				apply(start())
			case 13:
				apply(e.Handle(devices.NoteReturned{Device: "notes"}, now)) // validator reset: all pending returned
				stacked = nil
			}
			// The invariant, after every step.
			led := pj.j.Ledger()
			var inJournal int64
			for _, p := range led.Pending() {
				inJournal += p.Finish.Total
			}
			for _, o := range led.OpenSessions() {
				inJournal += o.Total
			}
			for _, u := range led.Unclaimed() {
				inJournal += u.Credit.Amount
			}
			// A note credit that cannot be attributed (lost id, not the
			// newest note in escrow) is a discrepancy for the cash-up.
			inJournal += led.Cash().Attention
			if inJournal+e.HeldMoney()+lost != credited {
				rt.Fatalf("step %d: journal %d + held %d + lost %d != credited %d", i, inJournal, e.HeldMoney(), lost, credited)
			}
			for id, n := range finishes {
				if n > 1 {
					rt.Fatalf("session %s finished %d times", id, n)
				}
			}
			if len(pj.refused) > 0 || len(refused) > 0 {
				rt.Fatalf("journal refused an engine record: %v %v", pj.refused, refused)
			}
			if st := e.State(); st.Total < 0 || st.Unclaimed < 0 {
				rt.Fatalf("negative money on screen: %+v", st)
			}
		}
	})
}
