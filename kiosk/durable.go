// The journal side of the engine: nothing counts before its record is
// durable; money the journal refuses is held in memory and retried; a
// device hears its credit acknowledged only once it is durable.

package kiosk

import (
	"errors"
	"slices"

	"github.com/printroom/voucherkiosk/kiosk/journal"
)

// errJournalDown is returned by append while the journal is known to fail and
// its retry time has not come.
var errJournalDown = errors.New("journal is failing")

// takeAcks hands the runner the acknowledgements of credits now durable.
func (e *Engine) takeAcks() []Command {
	var cmds []Command
	for _, a := range e.acks {
		cmds = append(cmds, AckCredit{Ack: a})
	}
	e.acks = nil
	return cmds
}

// HeldMoney is money taken while the journal failed and not yet journaled:
// it lives only in this process (and in the error log) until a retry works.
func (e *Engine) HeldMoney() int64 {
	var n int64
	for _, r := range e.held {
		if r.Kind == journal.KindCredit || r.Kind == journal.KindUnclaimed || r.Kind == journal.KindDiscrepancy {
			var c journal.Credit
			if r.Decode(&c) == nil {
				n += c.Amount
			}
		}
	}
	return n
}

// JournalFailing reports whether the engine knows its journal cannot be
// written now (money taken meanwhile is held in memory until it heals).
func (e *Engine) JournalFailing() bool { return e.jErr != nil }

// append writes non-money records. While the journal is known to fail it
// refuses at once until the retry time, so a broken disk is not hammered by
// every event; at the retry time held money goes first, keeping order.
func (e *Engine) append(recs ...journal.Record) (uint64, error) {
	if e.jErr != nil {
		if e.now.Before(e.jRetryAt) {
			return 0, errJournalDown
		}
		if !e.recoverJournal() {
			return 0, errJournalDown
		}
	}
	seq, err := e.j.Append(recs...)
	if err != nil {
		// Another writer (booking) may have broken the journal on a disk
		// that has room again by now: heal it and try once more before
		// holding money in memory.
		if p, ok := e.j.(Prober); ok && p.Probe() == nil {
			seq, err = e.j.Append(recs...)
		}
	}
	if err != nil {
		e.journalFailed(err)
		return 0, err
	}
	return seq, nil
}

// appendMoney writes a record that stands for money (or a note's
// settlement): it cannot be refused, so when the journal fails it is held in
// memory, logged with device and amount, and retried on every Tick.
func (e *Engine) appendMoney(recs ...journal.Record) {
	seq, err := e.append(recs...)
	if err != nil {
		for _, r := range recs {
			e.hold(r, err)
		}
		return
	}
	for i, r := range recs {
		e.applied(r, seq+uint64(i))
	}
}

// appendCredit is appendMoney for a device's credit: its Ack is owed to the
// runner once the record is durable, now or when the journal heals.
func (e *Engine) appendCredit(ack func(), r journal.Record) {
	n := len(e.held)
	e.appendMoney(r)
	if len(e.held) > n {
		e.heldAcks[len(e.heldAcks)-1] = ack
		return
	}
	if ack != nil {
		e.acks = append(e.acks, ack)
	}
}

func (e *Engine) hold(r journal.Record, err error) {
	var c journal.Credit
	switch r.Kind {
	case journal.KindCredit, journal.KindUnclaimed:
		_ = r.Decode(&c)
	case journal.KindDiscrepancy:
		var d journal.Discrepancy
		if r.Decode(&d) == nil {
			c = d.Credit
		}
	}
	e.log.Error("engine: journal failed; kept in memory only until it works again",
		"kind", string(r.Kind), "session", r.Session, "device", c.Device, "key", c.Key,
		"amount", c.Amount, "note_id", c.NoteID, "err", err)
	e.held = append(e.held, r)
	e.heldAcks = append(e.heldAcks, nil)
}

// applied counts a record the journal has taken.
func (e *Engine) applied(r journal.Record, seq uint64) {
	var c journal.Credit
	switch r.Kind {
	case journal.KindCredit:
		if s := e.sessionByID(r.Session); s != nil && r.Decode(&c) == nil {
			s.total += c.Amount
			s.lastMoney = e.now
		}
	case journal.KindUnclaimed:
		if r.Decode(&c) == nil {
			u := unclaimed{seq: seq, amount: c.Amount, at: e.now}
			switch {
			case e.closeNext:
				u.closed = true
			case e.phase == PhaseLookingUp:
				u.offer = e.lookupID // the card being looked up may claim it
			case e.phase != PhaseIdle:
				// "Not registered" or a result screen shows: the cash is
				// the student's in front of it, never the next card's.
				u.closed = true
			}
			e.unclaimed = append(e.unclaimed, u)
		}
		e.closeNext = false
	}
	// e.unacked is not set here: while the process runs the driver filters
	// its own repeats, so only the first bare credit after a start (restored
	// from the ledger) can repeat a journaled credit.
}

func (e *Engine) journalFailed(err error) {
	if e.jErr == nil {
		e.log.Error("engine: journal cannot be written: out of service", "err", err)
	}
	e.jErr = err
	e.jRetryAt = e.now.Add(e.cfg.JournalRetry)
}

// recoverJournal probes the journal (which may heal it), retries held
// records and reports whether the journal works again.
func (e *Engine) recoverJournal() bool {
	e.jRetryAt = e.now.Add(e.cfg.JournalRetry)
	// Ask the journal if it can take records (a broken journal heals here),
	// or without a Probe assume so: the next append finds out, and no money
	// moves before one succeeds.
	if p, ok := e.j.(Prober); ok {
		if err := p.Probe(); err != nil {
			e.jErr = err
			return false
		}
	}
	if len(e.held) == 0 {
		e.log.Info("engine: journal back in service")
		e.jErr = nil
		return true
	}
	recs := slices.Clone(e.held)
	for i, r := range recs {
		// Credit for a session no longer open is nobody's yet: unclaimed.
		if r.Kind == journal.KindCredit && e.sessionByID(r.Session) == nil {
			var c journal.Credit
			if r.Decode(&c) == nil {
				c.NoteID = ""
				recs[i] = journal.New(journal.KindUnclaimed, "", r.Time, c)
			}
		}
	}
	seq, err := e.j.Append(recs...)
	if err != nil {
		e.jErr = err
		return false
	}
	e.held = nil
	for _, a := range e.heldAcks {
		if a != nil {
			e.acks = append(e.acks, a)
		}
	}
	e.heldAcks = nil
	for i, r := range recs {
		e.applied(r, seq+uint64(i))
	}
	e.log.Info("engine: journal works again; held records written", "records", len(recs))
	e.jErr = nil
	return true
}
