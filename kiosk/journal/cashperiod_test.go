package journal

import "testing"

func numberedForCashPeriod(recs ...Record) []Record {
	for i := range recs {
		recs[i].Seq = uint64(i + 1)
	}
	return recs
}

func TestCashPeriodNamesTheLastCashup(t *testing.T) {
	l := ledgerOf(t, numberedForCashPeriod(rOpen("s1", 7), rCredit("s1", "coins", "20", 200, 0)))
	if p := l.CashPeriod(); !p.Since.IsZero() || p.By != "" {
		t.Fatalf("before any cash-up: %+v, want zero", p)
	}
	l = ledgerOf(t, numberedForCashPeriod(rOpen("s1", 7), rCredit("s1", "coins", "20", 200, 0), rCashup()))
	if p := l.CashPeriod(); !p.Since.Equal(at(13)) || p.By != "tech" {
		t.Errorf("after a cash-up: %+v, want since %v by tech", p, at(13))
	}
}
