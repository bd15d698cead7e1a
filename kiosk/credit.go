// Money in: a device's credit goes to the open session, a note's session,
// a follow-on top-up or unclaimed cash.

package kiosk

import (
	"slices"

	"github.com/printroom/voucherkiosk/devices"
	"github.com/printroom/voucherkiosk/kiosk/journal"
)

func (e *Engine) onCredit(c devices.Credit) []Command {
	if c.Amount <= 0 {
		e.log.Error("engine: credit with no amount ignored", "device", c.Device, "key", c.Key, "amount", c.Amount)
		return nil
	}
	jc := journal.Credit{Device: c.Device, Key: c.Key, Amount: c.Amount, Counter: c.Counter, NoteID: c.NoteID}
	current := ""
	if e.sess != nil && e.phase == PhaseSession {
		current = e.sess.id
	}
	if c.NoteID == "" && slices.Contains(e.cfg.Escrowing, c.Device) {
		return e.onBareNoteCredit(c, jc, current)
	}
	i := e.matchNote(c)
	if i < 0 {
		switch f := e.followOnOf(); {
		case current != "":
			e.appendCredit(c.Ack, journal.New(journal.KindCredit, current, e.now, jc))
		case f != nil:
			return e.followOn(f, c, jc)
		default:
			e.appendCredit(c.Ack, journal.New(journal.KindUnclaimed, "", e.now, jc))
		}
		return nil
	}
	n := e.notes[i]
	e.notes = slices.Delete(e.notes, i, i+1)
	jc.NoteID = n.NoteID
	switch {
	case n.Session != "" && (n.Session == current || e.closingSession(n.Session) != nil):
		e.appendCredit(c.Ack, journal.New(journal.KindCredit, n.Session, e.now, jc))
	case n.Session == "":
		e.appendCredit(c.Ack, journal.New(journal.KindUnclaimed, "", e.now, jc))
	default:
		// The note's session is already finished: the money is unclaimed
		// cash that no other card may claim (the unclaimed record names
		// the note, which settles its escrow in the ledger). While its
		// result shows (or just after) it then goes on to the same
		// student as a follow-on top-up that claims it.
		e.closeNext = true
		n0 := len(e.held)
		e.appendCredit(c.Ack, journal.New(journal.KindUnclaimed, "", e.now, jc))
		if f := e.followOnOf(); f != nil && f.id == n.Session && len(e.held) == n0 {
			return e.followOnClaim(f)
		}
		e.log.Warn("engine: note credited after its session closed: unclaimed cash no card may claim",
			"device", n.Device, "note_id", n.NoteID, "session", n.Session, "amount", c.Amount)
	}
	return nil
}

func (e *Engine) closingSession(id string) *session {
	for _, c := range e.closing {
		if c.s.id == id {
			return c.s
		}
	}
	return nil
}

// sessionByID is the current or a closing session still open in the journal.
func (e *Engine) sessionByID(id string) *session {
	if e.sess != nil && e.sess.id == id && e.phase == PhaseSession {
		return e.sess
	}
	return e.closingSession(id)
}

func (e *Engine) onUnrecognised(u devices.UnrecognisedCash) {
	e.nt.unrecognised++
	e.appendMoney(journal.New(journal.KindUnrecognised, "", e.now, journal.Unrecognised{Device: u.Device, What: u.What, Counter: u.Counter}))
}
