// What compaction keeps (the live records) and what it folds into a carry.

package journal

import (
	"fmt"
	"maps"
	"sort"
	"time"
)

// live reports whether compaction keeps the session's records.
func (l *Ledger) liveSessions() map[string]bool {
	live := map[string]bool{}
	for id, s := range l.sessions {
		if st := s.state(); st == StateOpen || st == StatePending || s.notes > 0 {
			live[id] = true
		}
	}
	for i := max(0, len(l.committed)-keepCommitted); i < len(l.committed); i++ {
		live[l.committed[i]] = true
	}
	return live
}

// Live returns the records compaction keeps, in Seq order: every record of
// open and pending sessions (and of the last 20 committed ones), unclaimed
// cash not claimed by a folded session, sessionless notes still in escrow,
// and the last cash-up. Everything else is settled history: its cash-up
// totals and device counters go into the KindCarry record compaction adds.
func (l *Ledger) Live() []Record {
	live := l.liveSessions()
	var out []Record
	for id := range live {
		out = append(out, l.sessions[id].recs...)
	}
	for _, u := range l.unclaimed {
		if u.claimedBy == "" || live[u.claimedBy] {
			out = append(out, u.rec)
		}
	}
	for _, n := range l.notes {
		if n.rec.Session == "" {
			out = append(out, n.rec)
		}
	}
	if l.lastCashup != nil {
		out = append(out, *l.lastCashup)
	}
	for _, d := range l.discrepancies {
		if d.piece.epoch == l.epoch { // settled only by a cash-up
			out = append(out, d.rec)
		}
	}
	out = append(out, l.liveVoucherRecords()...)
	sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out
}

// compacted folds the ledger into its live records plus one KindCarry record
// (Seq carrySeq) and returns them with the ledger they replay into, which
// answers every query as l does.
func (l *Ledger) compacted(carrySeq uint64, at time.Time) ([]Record, *Ledger, error) {
	live := l.Live()
	nl := NewLedger()
	for _, r := range live {
		if err := nl.Apply(r); err != nil {
			return nil, nil, fmt.Errorf("journal: compaction: replay of live records: %w", err)
		}
	}
	full, kept := l.Cash(), nl.Cash()
	carry := Carry{Totals: CashTotals{
		Accepted:     full.Accepted - kept.Accepted,
		Committed:    full.Committed - kept.Committed,
		Pending:      full.Pending - kept.Pending,
		InSession:    full.InSession - kept.InSession,
		Unclaimed:    full.Unclaimed - kept.Unclaimed,
		Unrecognised: full.Unrecognised - kept.Unrecognised,
	}, Counters: maps.Clone(l.counters), Unacked: maps.Clone(l.unacked)}
	for k, v := range full.Pieces {
		if d := v - kept.Pieces[k]; d != 0 {
			if carry.Totals.Pieces == nil {
				carry.Totals.Pieces = map[string]int64{}
			}
			carry.Totals.Pieces[k] = d
		}
	}
	if carry.Totals.Pending != 0 || carry.Totals.InSession != 0 || carry.Totals.Unclaimed != 0 {
		return nil, nil, fmt.Errorf("journal: compaction would fold live money (%+v): refusing", carry.Totals)
	}
	cr := New(KindCarry, "", at, carry)
	cr.Seq = carrySeq
	if err := nl.Apply(cr); err != nil {
		return nil, nil, fmt.Errorf("journal: compaction: %w", err)
	}
	return append(live, cr), nl, nil
}
