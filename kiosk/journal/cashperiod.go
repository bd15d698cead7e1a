package journal

import "time"

// CashPeriod is the cash-up period the cash box is in: when the last
// cash-up closed the previous one, and who made it.
type CashPeriod struct {
	Since time.Time // zero: no cash-up yet
	By    string
}

// CashPeriod says when the current cash-up period began and who emptied the
// box then; zero when the journal holds no cash-up.
func (l *Ledger) CashPeriod() CashPeriod {
	if l.lastCashup == nil {
		return CashPeriod{}
	}
	var d Cashup
	_ = l.lastCashup.Decode(&d) // Apply decoded it already: it cannot fail here
	return CashPeriod{Since: l.lastCashup.Time, By: d.By}
}
