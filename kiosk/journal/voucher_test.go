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

// A voucher the kiosk closed (Esc, an offer left alone, a late offer) while
// MyQ may hold its payment owes MyQ a rollback until one is journaled:
// the record of that debt survives compaction and a reopen, so a crash
// between the close and the rollback cannot leave the student's code
// reserved at MyQ for good.
func TestVoucherRollbackOwedSurvivesReopenAndCompaction(t *testing.T) {
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
	rolledBack := func(ref string) Record { return New(KindVoucherRolledBack, "s1", at(25), VoucherRef{Reference: ref}) }
	must(rOpen("s1", 7))
	must(vSeen("s1", "k/s1/v1"), vCreated("s1", "k/s1/v1", "p1", 500), vClosed("s1", "k/s1/v1", "cancelled")) // Esc on the offer
	must(vSeen("s1", "k/s1/v2"), vClosed("s1", "k/s1/v2", "cancelled"))                                       // Esc while asking
	must(vSeen("s1", "k/s1/v3"), vClosed("s1", "k/s1/v3", "refused"))                                         // nothing at MyQ
	must(vSeen("s1", "k/s1/v4"), vCreated("s1", "k/s1/v4", "p4", 500), vClosed("s1", "k/s1/v4", "rolled_back"))
	for _, r := range []Record{rolledBack("k/s1/v3"), rolledBack("k/s1/v4"), rolledBack("k/s1/v9")} {
		if _, err := j.Append(r); err == nil {
			t.Errorf("%s accepted: no rollback is owed", r.Data)
		}
	}
	want := func(l Snapshot, refs ...string) {
		t.Helper()
		got := l.VoucherRollbacks()
		if len(got) != len(refs) {
			t.Fatalf("rollbacks owed = %+v, want %v", got, refs)
		}
		for i, ref := range refs {
			if got[i].Reference != ref || got[i].State != VoucherClosedSt {
				t.Errorf("rollback owed %d = %+v, want %s closed", i, got[i], ref)
			}
		}
		if len(l.OpenVouchers()) != 0 {
			t.Errorf("a closed voucher is open: %+v", l.OpenVouchers())
		}
	}
	want(j.Ledger(), "k/s1/v1", "k/s1/v2")
	if err := j.Compact(); err != nil {
		t.Fatal(err)
	}
	want(j.Ledger(), "k/s1/v1", "k/s1/v2")
	must(rolledBack("k/s1/v1"))
	if _, err := j.Append(rolledBack("k/s1/v1")); err == nil {
		t.Error("a second rollback record accepted")
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	j, err = Open(Options{Dir: dir, CompactAfter: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	want(j.Ledger(), "k/s1/v2")
	if err := j.Compact(); err != nil {
		t.Fatal(err)
	}
	want(j.Ledger(), "k/s1/v2")
}
