// What the booking records mean: payments created, dropped, committed, and
// sessions that need attention.

package journal

// applyPaymentCreated applies a KindPaymentCreated record (see its doc in record.go).
func (l *Ledger) applyPaymentCreated(r Record) error {
	d, err := decodeData(r, fastPaymentCreated)
	if err != nil {
		return err
	}
	s, err := l.pendingSession(r)
	if err != nil {
		return err
	}
	if d.PaymentID == "" {
		return recErr(r, "no payment id")
	}
	s.paymentID = d.PaymentID
	s.recs = append(s.recs, r)
	return nil
}

// applyPaymentDropped applies a KindPaymentDropped record (see its doc in record.go).
func (l *Ledger) applyPaymentDropped(r Record) error {
	d, err := decodeData(r, fastPaymentCreated)
	if err != nil {
		return err
	}
	s, err := l.pendingSession(r)
	if err != nil {
		return err
	}
	// Dropping an orphan (not the current payment) leaves the current one.
	if d.PaymentID == "" || d.PaymentID == s.paymentID {
		s.paymentID = ""
	}
	s.recs = append(s.recs, r)
	return nil
}

// applyCommitted applies a KindCommitted record (see its doc in record.go).
func (l *Ledger) applyCommitted(r Record) error {
	d, err := decodeData(r, fastCommitted)
	if err != nil {
		return err
	}
	s, err := l.pendingSession(r)
	if err != nil {
		return err
	}
	if d.PaymentID == "" {
		d.PaymentID = s.paymentID
	}
	s.committed = &d
	s.committedAt = r.Time
	s.ended = r.Time
	s.paymentID = d.PaymentID
	s.recs = append(s.recs, r)
	l.committed = append(l.committed, s.id)
	l.settled += len(s.recs) + len(s.claims)
	return nil
}

// applyAttention applies a KindAttention record (see its doc in record.go).
func (l *Ledger) applyAttention(r Record) error {
	var d Attention
	if err := r.Decode(&d); err != nil {
		return err
	}
	s, err := l.pendingSession(r)
	if err != nil {
		return err
	}
	s.attention = d.Reason
	s.recs = append(s.recs, r)
	return nil
}
