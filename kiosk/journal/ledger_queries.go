// The ledger's queries: what the engine, booking and the tools read.

package journal

import (
	"maps"
	"slices"
	"sort"
)

func sortedSessions(l *Ledger, keep func(*sess) bool, key func(*sess) uint64) []*sess {
	var out []*sess
	for _, s := range l.sessions {
		if keep(s) {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return key(out[i]) < key(out[j]) })
	return out
}

func (l *Ledger) sessionNotes(id string) []NoteEscrow {
	var ns []*note
	for _, n := range l.notes {
		if n.rec.Session == id {
			ns = append(ns, n)
		}
	}
	sort.Slice(ns, func(i, j int) bool { return ns[i].rec.Seq < ns[j].rec.Seq })
	out := make([]NoteEscrow, 0, len(ns))
	for _, n := range ns {
		out = append(out, n.note)
	}
	return out
}

// OpenSessions lists the sessions still taking money, oldest first.
func (l *Ledger) OpenSessions() []OpenSession {
	var out []OpenSession
	for _, s := range sortedSessions(l, func(s *sess) bool { return s.state() == StateOpen }, func(s *sess) uint64 { return s.openSeq }) {
		o := OpenSession{ID: s.id, Open: s.open, Opened: s.opened, Total: s.total, LastCredit: s.lastCredit,
			Credits: slices.Clone(s.credits)}
		if s.notes > 0 {
			o.PendingNotes = l.sessionNotes(s.id)
		}
		if s.resolved != nil {
			r := *s.resolved
			o.Resolved = &r
		}
		out = append(out, o)
	}
	return out
}

func (s *sess) userID() int64 {
	switch {
	case s.resolved != nil:
		return s.resolved.UserID
	case s.finish != nil && s.finish.UserID != 0:
		return s.finish.UserID
	}
	return s.open.UserID
}

// Pending lists finished sessions not yet committed, in finish order.
func (l *Ledger) Pending() []PendingSession {
	var out []PendingSession
	for _, s := range sortedSessions(l, func(s *sess) bool { return s.state() == StatePending }, func(s *sess) uint64 { return s.finishSeq }) {
		out = append(out, PendingSession{ID: s.id, Finish: *s.finish, Finished: s.finished, UserID: s.userID(),
			PaymentID: s.paymentID, Attention: s.attention, Verified: s.resolved != nil})
	}
	return out
}

// Unclaimed lists cash taken with no session and not yet claimed, in order.
func (l *Ledger) Unclaimed() []UnclaimedCash {
	var out []UnclaimedCash
	for _, u := range l.unclaimed {
		if u.claimedBy == "" {
			out = append(out, UnclaimedCash{Seq: u.rec.Seq, Credit: u.credit, At: u.rec.Time})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out
}

// Counters is the last event counter per device.
func (l *Ledger) Counters() map[string]int { return maps.Clone(l.counters) }

// PendingNotes lists every note in escrow not yet credited or returned,
// with its session ("" for none), in escrow order.
func (l *Ledger) PendingNotes() []NoteEscrow {
	ns := slices.Collect(maps.Values(l.notes))
	sort.Slice(ns, func(i, j int) bool { return ns[i].rec.Seq < ns[j].rec.Seq })
	var out []NoteEscrow
	for _, n := range ns {
		out = append(out, n.note)
	}
	return out
}

// Unacked is, per device, the last note credit whose acknowledgement to the
// device may still be outstanding (see Ledger.unacked).
func (l *Ledger) Unacked() map[string]UnackedCredit { return maps.Clone(l.unacked) }

// Committed lists up to n of the most recently committed sessions, newest
// first. Compaction keeps the last 20.
func (l *Ledger) Committed(n int) []CommittedSession {
	var out []CommittedSession
	for i := len(l.committed) - 1; i >= 0 && len(out) < n; i-- {
		s := l.sessions[l.committed[i]]
		out = append(out, CommittedSession{ID: s.id, Reference: s.finish.Reference, Amount: s.total,
			UserID: s.userID(), PaymentID: s.committed.PaymentID, Balance: s.committed.Balance, At: s.committedAt})
	}
	return out
}

// Session looks up a session the journal still holds: open, pending, the
// recent committed ones, and settled ones not yet compacted away.
func (l *Ledger) Session(id string) (SessionInfo, bool) {
	s, ok := l.sessions[id]
	if !ok {
		return SessionInfo{}, false
	}
	info := SessionInfo{ID: s.id, State: s.state(), Open: s.open, Opened: s.opened, Total: s.total,
		Credits: slices.Clone(s.credits), Finished: s.finished, PaymentID: s.paymentID, Attention: s.attention,
		CommittedAt: s.committedAt, Ended: s.ended}
	if s.resolved != nil {
		r := *s.resolved
		info.Resolved = &r
	}
	if s.finish != nil {
		f := *s.finish
		info.Finish = &f
	}
	if s.committed != nil {
		c := *s.committed
		info.Committed = &c
	}
	return info, true
}
