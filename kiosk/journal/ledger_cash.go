// What the device-counter and cash-up records mean, and compaction's carry.

package journal

import (
	"maps"
)

// applyCounter applies a KindCounter record (see its doc in record.go).
func (l *Ledger) applyCounter(r Record) error {
	var d Counter
	if err := r.Decode(&d); err != nil {
		return err
	}
	if d.Device == "" {
		return recErr(r, "counter without device")
	}
	l.counters[d.Device] = d.Counter
	l.settled++
	return nil
}

// applyCashup applies a KindCashup record (see its doc in record.go).
func (l *Ledger) applyCashup(r Record) error {
	var d Cashup
	if err := r.Decode(&d); err != nil {
		return err
	}
	if l.lastCashup != nil {
		l.settled++
	}
	l.epoch++
	l.carry = CashTotals{}
	l.unrecognised = 0
	rc := r
	l.lastCashup = &rc
	return nil
}

// applyCarry applies a KindCarry record (see its doc in record.go).
func (l *Ledger) applyCarry(r Record) error {
	var d Carry
	if err := r.Decode(&d); err != nil {
		return err
	}
	// Compaction folds only booked money: anything else in a carry
	// would be money that no session or unclaimed record answers for.
	t := d.Totals
	if t.Pending != 0 || t.InSession != 0 || t.Unclaimed != 0 || t.Accepted != t.Committed {
		return recErr(r, "carry holds money that is not committed: %+v", t)
	}
	for _, v := range []int64{t.Accepted, t.Unrecognised} {
		if v < 0 || v > maxAmount*1000 {
			return recErr(r, "carried total %d out of range", v)
		}
	}
	for k, v := range t.Pieces {
		if v < 0 || v > maxAmount {
			return recErr(r, "carried count %d of %s out of range", v, k)
		}
	}
	addTotals(&l.carry, d.Totals)
	for dev, c := range d.Counters {
		l.counters[dev] = c
	}
	l.unacked = maps.Clone(d.Unacked)
	if l.unacked == nil {
		l.unacked = map[string]UnackedCredit{}
	}
	l.settled++
	return nil
}

func (l *Ledger) setCounter(device string, c int) {
	if c != 0 {
		l.counters[device] = c
	}
}

func addTotals(t *CashTotals, d CashTotals) {
	t.Accepted += d.Accepted
	t.Committed += d.Committed
	t.Pending += d.Pending
	t.InSession += d.InSession
	t.Unclaimed += d.Unclaimed
	t.Unrecognised += d.Unrecognised
	t.Attention += d.Attention
	for k, v := range d.Pieces {
		if t.Pieces == nil {
			t.Pieces = map[string]int64{}
		}
		t.Pieces[k] += v
	}
}

// Cash is the cash in the box since the last cash-up: every piece taken in
// this cash-up period, classified by where its money is now.
func (l *Ledger) Cash() CashTotals {
	t := CashTotals{Pieces: map[string]int64{}}
	addTotals(&t, l.carry)
	t.Unrecognised += l.unrecognised
	count := func(p piece, st SessionState) {
		if p.epoch != l.epoch {
			return
		}
		t.Accepted += p.amount
		t.Pieces[p.device+":"+p.key]++
		switch st {
		case StateOpen:
			t.InSession += p.amount
		case StatePending:
			t.Pending += p.amount
		case stateAttention:
			t.Attention += p.amount
		case StateCommitted:
			t.Committed += p.amount
		default:
			t.Unclaimed += p.amount
		}
	}
	cashState := func(s *sess) SessionState {
		st := s.state()
		if st == StatePending && s.attention != "" {
			return stateAttention
		}
		return st
	}
	for _, s := range l.sessions {
		st := cashState(s)
		for _, p := range s.pieces {
			count(p, st)
		}
	}
	for _, u := range l.unclaimed {
		var st SessionState
		if u.claimedBy != "" {
			st = cashState(l.sessions[u.claimedBy])
		}
		count(u.piece, st)
	}
	for _, d := range l.discrepancies {
		count(d.piece, stateAttention)
	}
	if len(t.Pieces) == 0 {
		t.Pieces = nil
	}
	return t
}

// stateAttention is Cash's own class for money that needs a technician.
const stateAttention SessionState = -1
