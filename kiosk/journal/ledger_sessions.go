// What the session records mean: opened, user resolved, cancelled, finished.

package journal

// applySessionOpen applies a KindSessionOpen record (see its doc in record.go).
func (l *Ledger) applySessionOpen(r Record) error {
	d, err := decodeData(r, fastSessionOpen)
	if err != nil {
		return err
	}
	if r.Session == "" {
		return recErr(r, "no session id")
	}
	if _, ok := l.sessions[r.Session]; ok {
		return recErr(r, "session opened twice")
	}
	l.sessions[r.Session] = &sess{id: r.Session, openSeq: r.Seq, open: d, opened: r.Time, recs: append(make([]Record, 0, 8), r)}
	return nil
}

// applyUserResolved applies a KindUserResolved record (see its doc in record.go).
func (l *Ledger) applyUserResolved(r Record) error {
	var d UserResolved
	if err := r.Decode(&d); err != nil {
		return err
	}
	s, ok := l.sessions[r.Session]
	if !ok {
		return recErr(r, "unknown session")
	}
	if st := s.state(); st != StateOpen && st != StatePending {
		return recErr(r, "session is %s", st)
	}
	if d.UserID <= 0 {
		return recErr(r, "user id %d", d.UserID)
	}
	s.resolved = &d
	s.recs = append(s.recs, r)
	return nil
}

// applyCancel applies a KindCancel record (see its doc in record.go).
func (l *Ledger) applyCancel(r Record) error {
	s, err := l.openSession(r)
	if err != nil {
		return err
	}
	if s.total != 0 {
		return recErr(r, "cannot cancel a session holding %d", s.total)
	}
	if s.notes != 0 {
		return recErr(r, "cannot cancel a session with %d note(s) in escrow", s.notes)
	}
	s.cancelled = true
	s.ended = r.Time
	s.recs = append(s.recs, r)
	l.settled += len(s.recs)
	return nil
}

// applyFinish applies a KindFinish record (see its doc in record.go).
func (l *Ledger) applyFinish(r Record) error {
	d, err := decodeData(r, fastFinish)
	if err != nil {
		return err
	}
	s, err := l.openSession(r)
	if err != nil {
		return err
	}
	if d.Total != s.total {
		return recErr(r, "finish total %d, the session's money is %d", d.Total, s.total)
	}
	if d.Total <= 0 {
		return recErr(r, "finish of a session with no money (cancel it)")
	}
	if d.Reference == "" {
		return recErr(r, "finish without reference")
	}
	s.finish = &d
	s.finished = r.Time
	s.finishSeq = r.Seq
	s.recs = append(s.recs, r)
	return nil
}
