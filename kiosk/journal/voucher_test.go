package journal

import (
	"strings"
	"testing"
)

func vSeen(sess, ref string) Record {
	return New(KindVoucherSeen, sess, at(20), VoucherSeen{Reference: ref, UserID: 7, Username: "ada", Masked: MaskVoucher("MYQ5-7Q3K-4821"), Source: "scanner"})
}
func vCreated(sess, ref, pid string, amt int64) Record {
	return New(KindVoucherCreated, sess, at(21), VoucherPayment{Reference: ref, PaymentID: pid, Amount: amt})
}
func vConfirmed(sess, ref string) Record {
	return New(KindVoucherConfirmed, sess, at(22), VoucherRef{Reference: ref})
}
func vCommitted(sess, ref, pid string, amt int64) Record {
	return New(KindVoucherCommitted, sess, at(23), VoucherPayment{Reference: ref, PaymentID: pid, Amount: amt})
}
func vClosed(sess, ref, why string) Record {
	return New(KindVoucherClosed, sess, at(24), VoucherClosed{Reference: ref, Reason: why})
}

func TestMaskVoucher(t *testing.T) {
	for in, want := range map[string]string{"MYQ5-7Q3K-4821": "**********4821", "1234": "****", "": ""} {
		if got := MaskVoucher(in); got != want {
			t.Errorf("MaskVoucher(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestVoucherLifecycleSurvivesReopenAndCompaction(t *testing.T) {
	dir := t.TempDir()
	j, err := Open(Options{Dir: dir, CompactAfter: -1})
	if err != nil {
		t.Fatal(err)
	}
	must := func(recs ...Record) {
		t.Helper()
		if _, err := j.Append(recs...); err != nil {
			t.Fatal(err)
		}
	}
	must(rOpen("s1", 7), rCredit("s1", "coin", "3", 200, 0))
	must(vSeen("s1", "k/s1/v1"), vCreated("s1", "k/s1/v1", "p1", 500), vConfirmed("s1", "k/s1/v1"))
	must(vSeen("s1", "k/s1/v2"), vCreated("s1", "k/s1/v2", "p2", 500))
	must(vSeen("s1", "k/s1/v3"), vClosed("s1", "k/s1/v3", "refused"))
	must(vSeen("s1", "k/s1/v4"), vCreated("s1", "k/s1/v4", "p4", 1000), vConfirmed("s1", "k/s1/v4"), vCommitted("s1", "k/s1/v4", "p4", 1000))

	// Bad transitions are refused and change nothing.
	for _, r := range []Record{
		vCommitted("s1", "k/s1/v4", "p4", 1000), // twice
		vClosed("s1", "k/s1/v1", "cancelled"),   // owed money cannot close empty
		vConfirmed("s1", "k/s1/v9"),             // unknown
		vSeen("s1", "k/s1/v1"),                  // seen twice
		vCreated("s1", "k/s1/v2", "p2", 0),
	} {
		if _, err := j.Append(r); err == nil {
			t.Errorf("%s %s accepted", r.Kind, r.Data)
		}
	}
	check := func(l Snapshot) {
		t.Helper()
		open := l.OpenVouchers()
		if len(open) != 2 || open[0].Reference != "k/s1/v1" || open[0].State != VoucherOwed || open[1].State != VoucherOffered || open[1].PaymentID != "p2" {
			t.Errorf("open vouchers = %+v", open)
		}
		if v := l.Vouchers(); v.Count != 1 || v.Committed != 1000 || v.Owed != 500 {
			t.Errorf("voucher totals = %+v", v)
		}
		if c := l.Cash(); c.Accepted != 200 || c.InSession != 200 {
			t.Errorf("vouchers leaked into the cash box: %+v", c)
		}
	}
	check(j.Ledger())
	if err := j.Compact(); err != nil {
		t.Fatal(err)
	}
	check(j.Ledger())
	must(vCommitted("s1", "k/s1/v1", "p1", 500), vClosed("s1", "k/s1/v2", "cancelled"))
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	j, err = Open(Options{Dir: dir, CompactAfter: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	l := j.Ledger()
	if len(l.OpenVouchers()) != 0 {
		t.Errorf("after reopen: %+v", l.OpenVouchers())
	}
	if v := l.Vouchers(); v.Count != 2 || v.Committed != 1500 || v.Owed != 0 {
		t.Errorf("after reopen totals = %+v", v)
	}
	for _, r := range j.Records() {
		if strings.Contains(string(r.Data), "7Q3K") {
			t.Errorf("journal holds the code: %s", r.Data)
		}
	}
	// A cash-up starts the voucher line again.
	if _, err := j.Append(rCashup()); err != nil {
		t.Fatal(err)
	}
	if v := j.Ledger().Vouchers(); v.Count != 0 || v.Committed != 0 {
		t.Errorf("after cash-up = %+v", v)
	}
}
