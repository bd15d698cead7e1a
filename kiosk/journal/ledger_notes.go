// What the escrow records mean: a note told to stack, a note given back.

package journal

// applyNoteEscrow applies a KindNoteEscrow record (see its doc in record.go).
func (l *Ledger) applyNoteEscrow(r Record) error {
	var d NoteEscrow
	if err := r.Decode(&d); err != nil {
		return err
	}
	if err := checkAmount(r, d.Amount); err != nil {
		return err
	}
	if d.NoteID == "" {
		return recErr(r, "note escrow without note id")
	}
	k := noteKey{d.Device, d.NoteID}
	if _, ok := l.notes[k]; ok {
		return recErr(r, "note %s already in escrow", d.NoteID)
	}
	var s *sess
	if r.Session != "" {
		var err error
		if s, err = l.openSession(r); err != nil {
			return err
		}
	}
	d.Session = r.Session
	l.notes[k] = &note{rec: r, note: d}
	delete(l.unacked, d.Device)
	if s != nil {
		s.notes++
		s.recs = append(s.recs, r)
	}
	return nil
}

// applyNoteReturned applies a KindNoteReturned record (see its doc in record.go).
func (l *Ledger) applyNoteReturned(r Record) error {
	var d NoteReturned
	if err := r.Decode(&d); err != nil {
		return err
	}
	k := noteKey{d.Device, d.NoteID}
	n, ok := l.notes[k]
	if !ok {
		return recErr(r, "note %s is not in escrow", d.NoteID)
	}
	if n.rec.Session != r.Session {
		return recErr(r, "note %s was escrowed for session %q", d.NoteID, n.rec.Session)
	}
	l.dropNote(k)
	if s, ok := l.sessions[r.Session]; ok {
		s.recs = append(s.recs, r)
	} else {
		l.settled += 2
	}
	return nil
}

func (l *Ledger) dropNote(k noteKey) {
	n := l.notes[k]
	delete(l.notes, k)
	if s, ok := l.sessions[n.rec.Session]; ok {
		s.notes--
	}
}
