// Notes in escrow: what the engine tells a validator, how a note's credit
// finds its note (and a repeated or unattributable credit after a restart
// is told apart), and what a returned note settles.

package kiosk

import (
	"slices"
	"time"

	"github.com/printroom/voucherkiosk/devices"
	"github.com/printroom/voucherkiosk/kiosk/journal"
)

// pendingNote is a note told to stack and not yet settled. NoteEscrow.Session
// is the session it was journaled for ("" none).
type pendingNote struct {
	journal.NoteEscrow
	at time.Time
}

// onBareNoteCredit is a validator's credit without a note identity: the
// driver restarted and lost it. A validator holds at most one note in
// escrow and reports nothing new before the last event was acknowledged, so:
//   - a credit matching the device's last credit still awaiting its
//     acknowledgement is that credit repeated (crash in the EVENT_ACK
//     window): no money, acknowledged;
//   - else the newest pending note of the device, if its channel matches,
//     is the one that stacked;
//   - else it cannot be attributed: a discrepancy for the cash-up (needs
//     attention), booked to nobody. Older pending notes are never settled
//     by channel alone: the validator may have given them back.
func (e *Engine) onBareNoteCredit(c devices.Credit, jc journal.Credit, current string) []Command {
	if u, ok := e.unacked[c.Device]; ok {
		// Only the first bare credit after a start can be the repeat.
		delete(e.unacked, c.Device)
		if u.Key == c.Key && u.Amount == c.Amount {
			e.log.Warn("engine: the validator repeated a credit already journaled (its acknowledgement was outstanding): not counted again",
				"device", c.Device, "key", c.Key, "amount", c.Amount, "note_id", u.NoteID)
			if c.Ack != nil {
				e.acks = append(e.acks, c.Ack)
			}
			return nil
		}
		e.discrepancy(c, jc, "a note credit without identity that does not repeat the credit awaiting its acknowledgement")
		return nil
	}
	newest := -1
	for i, n := range e.notes {
		if n.Device == c.Device {
			newest = i
		}
	}
	if newest < 0 || e.notes[newest].Key != c.Key {
		e.discrepancy(c, jc, "a note credit without identity and no note of its channel in escrow")
		return nil
	}
	c.NoteID = e.notes[newest].NoteID
	return e.onCredit(c)
}

func (e *Engine) discrepancy(c devices.Credit, jc journal.Credit, why string) {
	e.log.Error("engine: a credit the kiosk cannot attribute: reported for the cash-up, booked to nobody",
		"device", c.Device, "key", c.Key, "amount", c.Amount, "why", why)
	e.appendCredit(c.Ack, journal.New(journal.KindDiscrepancy, "", e.now, journal.Discrepancy{Credit: jc, Why: why}))
}

// RestoreUnacked takes the journal's credits whose acknowledgement to the
// device may be outstanding (journal.Ledger.Unacked), before the first event.
func (e *Engine) RestoreUnacked(m map[string]journal.UnackedCredit) {
	for k, v := range m {
		e.unacked[k] = v
	}
}

// matchNote finds the pending note a credit settles: by NoteID, or when the
// driver lost it (restart) the oldest pending note of that device and Key.
func (e *Engine) matchNote(c devices.Credit) int {
	if c.NoteID != "" {
		return slices.IndexFunc(e.notes, func(n pendingNote) bool { return n.Device == c.Device && n.NoteID == c.NoteID })
	}
	return slices.IndexFunc(e.notes, func(n pendingNote) bool { return n.Device == c.Device && n.Key == c.Key })
}

func (e *Engine) onEscrow(x devices.Escrow) []Command {
	pending := int64(0)
	for _, n := range e.sessionNotes() {
		pending += n.Amount
	}
	ok, why := noteAcceptable(noteCheck{
		session:      e.sess != nil && e.phase == PhaseSession && !e.sess.finishReq,
		journalOK:    e.jErr == nil,
		inService:    !e.shutdown && e.displayPhase() == PhaseSession,
		total:        e.sessTotal() + pending,
		amount:       x.Amount,
		max:          e.cfg.MaxTopup,
		alreadyKnown: slices.ContainsFunc(e.notes, func(n pendingNote) bool { return n.Device == x.Device && n.NoteID == x.NoteID }),
	})
	if !ok {
		e.log.Info("engine: note rejected", "device", x.Device, "amount", x.Amount, "why", why)
		return []Command{Decide{Escrow: x, Decision: devices.Reject}}
	}
	ne := journal.NoteEscrow{Device: x.Device, NoteID: x.NoteID, Key: x.Key, Amount: x.Amount}
	if _, err := e.append(journal.New(journal.KindNoteEscrow, e.sess.id, e.now, ne)); err != nil {
		return []Command{Decide{Escrow: x, Decision: devices.Reject}}
	}
	ne.Session = e.sess.id
	e.notes = append(e.notes, pendingNote{NoteEscrow: ne, at: e.now})
	delete(e.unacked, x.Device) // the validator moved on: its last credit was acknowledged
	return []Command{Decide{Escrow: x, Decision: devices.Stack}}
}

func (e *Engine) onNoteReturned(r devices.NoteReturned) {
	var recs []journal.Record
	e.notes = slices.DeleteFunc(e.notes, func(n pendingNote) bool {
		if n.Device != r.Device || (r.NoteID != "" && n.NoteID != r.NoteID) {
			return false
		}
		recs = append(recs, journal.New(journal.KindNoteReturned, n.Session, e.now,
			journal.NoteReturned{Device: n.Device, NoteID: n.NoteID}))
		return true
	})
	if len(recs) == 0 {
		return
	}
	if e.sess != nil {
		e.sess.activity = e.now
	}
	for _, r := range recs {
		e.appendMoney(r) // not money, but the ledger must learn it: held and retried like money
	}
}

func (e *Engine) noteWaitUntil() time.Time {
	var t time.Time
	for _, n := range e.sessionNotes() {
		if w := n.at.Add(e.cfg.NoteWait); t.IsZero() || w.Before(t) {
			t = w
		}
	}
	return t
}

// sessionNotes are the pending notes of the open session.
func (e *Engine) sessionNotes() []pendingNote {
	if e.sess == nil {
		return nil
	}
	var out []pendingNote
	for _, n := range e.notes {
		if n.Session == e.sess.id {
			out = append(out, n)
		}
	}
	return out
}
