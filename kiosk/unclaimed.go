// Money that arrives with no session on screen: unclaimed cash and who may
// claim it, and follow-on top-ups of the student who just finished.

package kiosk

import (
	"time"

	"github.com/printroom/voucherkiosk/devices"
	"github.com/printroom/voucherkiosk/kiosk/journal"
)

// unclaimed is cash taken with no session. Only the first card tapped
// within ClaimWindow of its insertion may claim it: offer is that card's
// lookup; closed means nobody may any more (the window passed, the first
// card was not registered, it was inserted while "not registered" or a
// result screen showed, or it predates this process). Closed cash stays in
// the journal as unclaimed, for the cash-up.
type unclaimed struct {
	seq    uint64
	amount int64
	at     time.Time // insertion, this process's clock
	offer  string    // lookup id of the card it is offered to
	closed bool
}

// claimable reports whether a card tapped now may be offered u.
func (e *Engine) claimable(u unclaimed) bool {
	return !u.closed && u.offer == "" && e.now.Before(u.at.Add(e.cfg.ClaimWindow))
}

// closeOffers closes the cash offered to a lookup that opened no session.
func (e *Engine) closeOffers(lookupID string) {
	for i := range e.unclaimed {
		if e.unclaimed[i].offer == lookupID {
			e.unclaimed[i].closed = true
		}
	}
}

// followOnOf is the finished session a credit arriving now follows on, or
// nil: its result screen shows, or it finished within FollowOnWindow.
func (e *Engine) followOnOf() *session {
	f := e.lastFin
	if f == nil {
		return nil
	}
	switch e.phase {
	case PhaseBooking, PhaseCredited, PhaseSavedOffline:
		if e.finished == f {
			return f
		}
	}
	if e.now.Before(e.lastFinAt.Add(FollowOnWindow)) {
		return f
	}
	return nil
}

// followOnSession is a new session of f's student, for money that landed
// after f finished, with the records that open and finish it around recs.
func (e *Engine) followOnSession(f *session, amount int64, recs func(id string) journal.Record) (journal.Finish, []journal.Record) {
	id := e.nextSessionID()
	open := journal.SessionOpen{Card: f.card, Offline: f.offline}
	fin := journal.Finish{Total: amount, Reference: e.reference(id), Card: f.card, Reason: ReasonFollowOn, Offline: f.offline}
	if f.user != nil {
		open.UserID, open.Username, open.FullName = f.user.ID, f.user.Username, f.user.FullName
		fin.UserID, fin.FullName = f.user.ID, f.user.FullName
	}
	return fin, []journal.Record{
		journal.New(journal.KindSessionOpen, id, e.now, open),
		recs(id),
		journal.New(journal.KindFinish, id, e.now, fin),
	}
}

// followOn books a credit that landed after its student's session finished
// to the same user, as a top-up of its own (own session, own reference),
// opened, credited and finished in one append. If the journal refuses it,
// the money is held as closed unclaimed cash: never lost, never another's.
func (e *Engine) followOn(f *session, c devices.Credit, jc journal.Credit) []Command {
	fin, recs := e.followOnSession(f, jc.Amount, func(id string) journal.Record {
		return journal.New(journal.KindCredit, id, e.now, jc)
	})
	if _, err := e.append(recs...); err != nil {
		e.closeNext = true
		e.appendCredit(c.Ack, journal.New(journal.KindUnclaimed, "", e.now, jc))
		return nil
	}
	if c.Ack != nil {
		e.acks = append(e.acks, c.Ack)
	}
	e.log.Info("engine: money after the finish booked as a follow-on top-up of the same user",
		"session", recs[0].Session, "after", f.id, "amount", jc.Amount)
	return []Command{Book{SessionID: recs[0].Session, Finish: fin}}
}

// followOnClaim opens a follow-on session for f's student that claims the
// unclaimed record just written (a late note of f), and books it. If the
// journal refuses, the note stays closed unclaimed cash for the cash-up.
func (e *Engine) followOnClaim(f *session) []Command {
	u := e.unclaimed[len(e.unclaimed)-1]
	fin, recs := e.followOnSession(f, u.amount, func(id string) journal.Record {
		return journal.New(journal.KindClaim, id, e.now, journal.Claim{Seqs: []uint64{u.seq}, Amount: u.amount})
	})
	if _, err := e.append(recs...); err != nil {
		return nil
	}
	e.unclaimed = e.unclaimed[:len(e.unclaimed)-1]
	return []Command{Book{SessionID: recs[0].Session, Finish: fin}}
}
