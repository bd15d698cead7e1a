package journal

// Voucher records. A voucher is not cash: it is its own payment with its own
// reference ("<session reference>/v<n>"), journaled step by step so a crash
// or a lost answer is resolved like a cash booking (list before repeating,
// adopt by reference, never commit twice), and it is counted on its own line
// at the cash-up, never in the cash box.

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

const (
	// KindVoucherSeen: a code was read for a session's user, before MyQ is
	// asked. Data: VoucherSeen. Session set.
	KindVoucherSeen Kind = "voucher_seen"
	// KindVoucherCreated: MyQ created (or we adopted) the voucher's
	// uncommitted payment. Data: VoucherPayment.
	KindVoucherCreated Kind = "voucher_created"
	// KindVoucherConfirmed: the student pressed Enter on the voucher's
	// value; from here the commit is owed. Data: VoucherRef.
	KindVoucherConfirmed Kind = "voucher_confirmed"
	// KindVoucherCommitted: the voucher's money is on the account. Data:
	// VoucherPayment. Terminal.
	KindVoucherCommitted Kind = "voucher_committed"
	// KindVoucherClosed: the voucher moved no money and never will (refused,
	// cancelled, rolled back, offline). Data: VoucherClosed. Terminal.
	KindVoucherClosed Kind = "voucher_closed"
	// KindVoucherRolledBack: the payment of a voucher closed by the kiosk
	// before MyQ heard of it (cancelled, abandoned) is rolled back at MyQ,
	// or was never there: its code is free again. Until then the closed
	// voucher still owes MyQ a rollback (VoucherRollbacks). Data:
	// VoucherRef.
	KindVoucherRolledBack Kind = "voucher_rolled_back"
)

func (k Kind) voucher() bool {
	switch k {
	case KindVoucherSeen, KindVoucherCreated, KindVoucherConfirmed, KindVoucherCommitted, KindVoucherClosed, KindVoucherRolledBack:
		return true
	}
	return false
}

// VoucherSeen is the data of KindVoucherSeen. The code itself is never
// journaled: only its last four characters.
type VoucherSeen struct {
	Reference string `json:"reference"`
	UserID    int64  `json:"user_id"`
	Username  string `json:"username,omitempty"`
	Masked    string `json:"masked"`
	Source    string `json:"source,omitempty"` // "scanner", "keyboard", "keypad"
}

// VoucherRef is the data of KindVoucherConfirmed and KindVoucherRolledBack.
type VoucherRef struct {
	Reference string `json:"reference"`
}

// VoucherPayment is the data of KindVoucherCreated and KindVoucherCommitted.
type VoucherPayment struct {
	Reference string `json:"reference"`
	PaymentID string `json:"payment_id"`
	Amount    int64  `json:"amount"`
}

// VoucherClosed is the data of KindVoucherClosed.
type VoucherClosed struct {
	Reference string `json:"reference"`
	Reason    string `json:"reason"` // "refused", "cancelled", "rolled_back", "offline", "abandoned"
	Message   string `json:"message,omitempty"`
}

// MaskVoucher keeps the last four characters of a code.
func MaskVoucher(code string) string {
	r := []rune(code)
	if len(r) <= 4 {
		return strings.Repeat("*", len(r))
	}
	return strings.Repeat("*", len(r)-4) + string(r[len(r)-4:])
}

// VoucherState is where a voucher is.
type VoucherState int

const (
	VoucherAsked     VoucherState = iota // seen; MyQ's answer not journaled
	VoucherOffered                       // payment created, the student has not confirmed
	VoucherOwed                          // confirmed: the commit is owed
	VoucherCommitted                     // terminal: money on the account
	VoucherClosedSt                      // terminal: no money
)

func (s VoucherState) String() string {
	switch s {
	case VoucherAsked:
		return "asked"
	case VoucherOffered:
		return "offered"
	case VoucherOwed:
		return "owed"
	case VoucherCommitted:
		return "committed"
	case VoucherClosedSt:
		return "closed"
	}
	return fmt.Sprintf("VoucherState(%d)", int(s))
}

// VoucherInfo is one voucher the journal holds.
type VoucherInfo struct {
	Reference string
	Session   string
	UserID    int64
	Username  string
	Masked    string
	State     VoucherState
	PaymentID string
	Amount    int64
	Seen      time.Time
	// RollbackOwed: closed by the kiosk (cancelled, abandoned) while MyQ
	// may hold its uncommitted payment, which holds the code: a rollback
	// is owed until KindVoucherRolledBack.
	RollbackOwed bool
}

type vch struct {
	info  VoucherInfo
	recs  []Record
	epoch int
	seq   uint64
}

// VoucherTotals is the cash-up's voucher line: vouchers committed since the
// last cash-up (no money in the box).
type VoucherTotals struct {
	Count     int64 `json:"count"`
	Committed int64 `json:"committed"`
	Owed      int64 `json:"owed"` // confirmed, commit not yet journaled
}

func (l *Ledger) voucherRef(r Record) (string, error) {
	var d VoucherRef
	if err := r.Decode(&d); err != nil {
		return "", err
	}
	if d.Reference == "" {
		return "", recErr(r, "voucher record without a reference")
	}
	return d.Reference, nil
}

func (l *Ledger) applyVoucher(r Record) error {
	ref, err := l.voucherRef(r)
	if err != nil {
		return err
	}
	v := l.vouchers[ref]
	if r.Kind == KindVoucherSeen {
		var d VoucherSeen
		if err := r.Decode(&d); err != nil {
			return err
		}
		if v != nil {
			return recErr(r, "voucher %s seen twice", ref)
		}
		if d.UserID <= 0 || r.Session == "" {
			return recErr(r, "voucher %s without user or session", ref)
		}
		if l.vouchers == nil {
			l.vouchers = map[string]*vch{}
		}
		l.vouchers[ref] = &vch{info: VoucherInfo{Reference: ref, Session: r.Session, UserID: d.UserID, Username: d.Username,
			Masked: d.Masked, Seen: r.Time}, recs: []Record{r}, epoch: l.epoch, seq: r.Seq}
		return nil
	}
	if v == nil {
		return recErr(r, "unknown voucher %s", ref)
	}
	st := v.info.State
	if r.Kind == KindVoucherRolledBack {
		if st != VoucherClosedSt || !v.info.RollbackOwed {
			return recErr(r, "voucher %s rolled back when %s without a rollback owed", ref, st)
		}
		v.info.RollbackOwed = false
		v.recs = append(v.recs, r)
		return nil
	}
	if st == VoucherCommitted || st == VoucherClosedSt {
		return recErr(r, "voucher %s is %s", ref, st)
	}
	next := v.info
	switch r.Kind {
	case KindVoucherCreated, KindVoucherCommitted:
		var d VoucherPayment
		if err := r.Decode(&d); err != nil {
			return err
		}
		if err := checkAmount(r, d.Amount); err != nil {
			return err
		}
		if d.PaymentID == "" {
			return recErr(r, "voucher %s without payment id", ref)
		}
		if r.Kind == KindVoucherCreated {
			if st != VoucherAsked {
				return recErr(r, "voucher %s created when %s", ref, st)
			}
			next.State = VoucherOffered
		} else {
			if st != VoucherOwed && st != VoucherOffered {
				return recErr(r, "voucher %s committed when %s", ref, st)
			}
			next.State = VoucherCommitted
		}
		next.PaymentID, next.Amount = d.PaymentID, d.Amount
	case KindVoucherConfirmed:
		if st != VoucherOffered {
			return recErr(r, "voucher %s confirmed when %s", ref, st)
		}
		next.State = VoucherOwed
	case KindVoucherClosed:
		var d VoucherClosed
		if err := r.Decode(&d); err != nil {
			return err
		}
		// A confirmed voucher closes without money only when MyQ refused
		// its commit for good (the code stays redeemable).
		if st == VoucherOwed && d.Reason != "refused" {
			return recErr(r, "voucher %s closed (%s) without money after the student confirmed it", ref, d.Reason)
		}
		next.State = VoucherClosedSt
		// Closed by the kiosk while MyQ may hold the payment (created, or
		// a create in flight): the payment must be rolled back at MyQ, or
		// the student's code stays reserved.
		next.RollbackOwed = (d.Reason == "cancelled" || d.Reason == "abandoned") && (st == VoucherAsked || st == VoucherOffered)
	}
	v.info = next
	v.recs = append(v.recs, r)
	if next.State == VoucherCommitted || next.State == VoucherClosedSt {
		v.epoch = l.epoch // counted in the period it committed
	}
	return nil
}

// OpenVouchers lists the vouchers not yet committed or closed, oldest first:
// what a restart must resolve.
func (l *Ledger) OpenVouchers() []VoucherInfo {
	var out []VoucherInfo
	for _, v := range l.vouchers {
		if st := v.info.State; st != VoucherCommitted && st != VoucherClosedSt {
			out = append(out, v.info)
		}
	}
	sort.Slice(out, func(i, j int) bool { return l.vouchers[out[i].Reference].seq < l.vouchers[out[j].Reference].seq })
	return out
}

// VoucherRollbacks lists the closed vouchers that still owe MyQ a
// rollback, oldest first: what a restart must roll back.
func (l *Ledger) VoucherRollbacks() []VoucherInfo {
	var out []VoucherInfo
	for _, v := range l.vouchers {
		if v.info.RollbackOwed {
			out = append(out, v.info)
		}
	}
	sort.Slice(out, func(i, j int) bool { return l.vouchers[out[i].Reference].seq < l.vouchers[out[j].Reference].seq })
	return out
}

// Voucher looks one voucher up by reference.
func (l *Ledger) Voucher(ref string) (VoucherInfo, bool) {
	v, ok := l.vouchers[ref]
	if !ok {
		return VoucherInfo{}, false
	}
	return v.info, true
}

// SessionVouchers lists a session's vouchers in the order seen.
func (l *Ledger) SessionVouchers(session string) []VoucherInfo {
	var out []VoucherInfo
	for _, v := range l.vouchers {
		if v.info.Session == session {
			out = append(out, v.info)
		}
	}
	sort.Slice(out, func(i, j int) bool { return l.vouchers[out[i].Reference].seq < l.vouchers[out[j].Reference].seq })
	return out
}

// Vouchers is the voucher line of the cash-up: committed since the last
// cash-up, and owed.
func (l *Ledger) Vouchers() VoucherTotals {
	var t VoucherTotals
	for _, v := range l.vouchers {
		switch {
		case v.info.State == VoucherCommitted && v.epoch == l.epoch:
			t.Count++
			t.Committed += v.info.Amount
		case v.info.State == VoucherOwed:
			t.Owed += v.info.Amount
		}
	}
	return t
}

// liveVoucherRecords are the records compaction keeps: every voucher still
// open, and those settled in the current cash-up period (their totals).
func (l *Ledger) liveVoucherRecords() []Record {
	var out []Record
	for _, v := range l.vouchers {
		st := v.info.State
		if (st != VoucherCommitted && st != VoucherClosedSt) || (st == VoucherCommitted && v.epoch == l.epoch) || v.info.RollbackOwed {
			out = append(out, v.recs...)
		}
	}
	return out
}

func (l *Ledger) cloneVouchers() map[string]*vch {
	if l.vouchers == nil {
		return nil
	}
	c := make(map[string]*vch, len(l.vouchers))
	for k, v := range l.vouchers {
		vc := *v
		vc.recs = v.recs[:len(v.recs):len(v.recs)] // append-only: share, never alias appends
		c[k] = &vc
	}
	return c
}
