// What the money records mean: credits, unclaimed cash and its claims,
// unrecognised cash, discrepancies.

package journal

import (
	"slices"
)

// applyCredit applies a KindCredit record (see its doc in record.go).
func (l *Ledger) applyCredit(r Record) error {
	d, err := decodeData(r, fastCredit)
	if err != nil {
		return err
	}
	if err := checkAmount(r, d.Amount); err != nil {
		return err
	}
	s, err := l.openSession(r)
	if err != nil {
		return err
	}
	if d.NoteID != "" {
		// A stacked note settles its escrow record, if it had one.
		if n, ok := l.notes[noteKey{d.Device, d.NoteID}]; ok {
			if n.rec.Session != r.Session {
				return recErr(r, "note %s was escrowed for session %q", d.NoteID, n.rec.Session)
			}
			l.dropNote(noteKey{d.Device, d.NoteID})
		}
	}
	if d.NoteID != "" {
		l.unacked[d.Device] = UnackedCredit{Credit: d, Seq: r.Seq}
	}
	s.credits = append(s.credits, d)
	s.pieces = append(s.pieces, piece{d.Device, d.Key, d.Amount, l.epoch})
	s.total += d.Amount
	s.lastCredit = r.Time
	s.recs = append(s.recs, r)
	l.setCounter(d.Device, d.Counter)
	return nil
}

// applyUnclaimed applies a KindUnclaimed record (see its doc in record.go).
func (l *Ledger) applyUnclaimed(r Record) error {
	d, err := decodeData(r, fastCredit)
	if err != nil {
		return err
	}
	if err := checkAmount(r, d.Amount); err != nil {
		return err
	}
	if r.Session != "" {
		return recErr(r, "unclaimed cash names a session")
	}
	k := noteKey{d.Device, d.NoteID}
	n, settles := l.notes[k]
	if d.NoteID != "" && settles && n.rec.Session != "" {
		// A note settled after its session closed (the validator was
		// late) is nobody's money yet: unclaimed cash, never lost. While
		// its session is still open the money is that session's.
		s, ok := l.sessions[n.rec.Session]
		if !ok {
			return recErr(r, "note %s was escrowed for session %q, which the ledger does not know", d.NoteID, n.rec.Session)
		}
		if st := s.state(); st == StateOpen {
			return recErr(r, "note %s was escrowed for session %q, which is still open: credit it to that session", d.NoteID, n.rec.Session)
		}
	}
	if d.NoteID != "" && settles {
		l.dropNote(k)
		if s, ok := l.sessions[n.rec.Session]; ok {
			// The escrow record has no meaning left: drop it from the
			// session's records, so compaction never keeps an escrow
			// without the record that settled it. Into a new slice:
			// clones of the ledger share the old one (see sess.clone).
			s.recs = slices.DeleteFunc(slices.Clone(s.recs), func(x Record) bool { return x.Seq == n.rec.Seq })
			l.settled++
		}
	}
	if d.NoteID != "" {
		l.unacked[d.Device] = UnackedCredit{Credit: d, Seq: r.Seq}
	}
	l.unclaimed[r.Seq] = &unclaimed{rec: r, credit: d, piece: piece{d.Device, d.Key, d.Amount, l.epoch}}
	l.setCounter(d.Device, d.Counter)
	return nil
}

// applyClaim applies a KindClaim record (see its doc in record.go).
func (l *Ledger) applyClaim(r Record) error {
	var d Claim
	if err := r.Decode(&d); err != nil {
		return err
	}
	s, err := l.openSession(r)
	if err != nil {
		return err
	}
	if len(d.Seqs) == 0 {
		return recErr(r, "claims nothing")
	}
	var sum int64
	seen := map[uint64]bool{}
	for _, q := range d.Seqs {
		u, ok := l.unclaimed[q]
		if !ok {
			return recErr(r, "claims record %d, which is not unclaimed cash", q)
		}
		if u.claimedBy != "" || seen[q] {
			return recErr(r, "claims record %d, already claimed by session %q", q, u.claimedBy)
		}
		seen[q] = true
		sum += u.credit.Amount
	}
	if sum != d.Amount {
		return recErr(r, "claim amount %d, the claimed records sum to %d", d.Amount, sum)
	}
	for _, q := range d.Seqs {
		l.unclaimed[q].claimedBy = s.id
	}
	s.claims = append(s.claims, d.Seqs...)
	s.total += sum
	s.lastCredit = r.Time
	s.recs = append(s.recs, r)
	return nil
}

// applyUnrecognised applies a KindUnrecognised record (see its doc in record.go).
func (l *Ledger) applyUnrecognised(r Record) error {
	var d Unrecognised
	if err := r.Decode(&d); err != nil {
		return err
	}
	l.unrecognised++
	l.setCounter(d.Device, d.Counter)
	l.settled++
	return nil
}

// applyDiscrepancy applies a KindDiscrepancy record (see its doc in record.go).
func (l *Ledger) applyDiscrepancy(r Record) error {
	var d Discrepancy
	if err := r.Decode(&d); err != nil {
		return err
	}
	if err := checkAmount(r, d.Amount); err != nil {
		return err
	}
	if r.Session != "" {
		return recErr(r, "a discrepancy names a session")
	}
	l.discrepancies = append(l.discrepancies, discrepancy{rec: r, piece: piece{d.Device, d.Key, d.Amount, l.epoch}})
	l.setCounter(d.Device, d.Counter)
	// The device's last credit: a crash before its EVENT_ACK makes the
	// validator repeat it after the restart.
	l.unacked[d.Device] = UnackedCredit{Credit: d.Credit, Seq: r.Seq}
	return nil
}
