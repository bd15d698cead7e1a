package journal

import (
	"encoding/json"
	"fmt"
	"time"
)

// Kind names what a record says. The set is closed: replay refuses a kind it
// does not know rather than guess what money it meant.
type Kind string

const (
	// KindSessionOpen: a card opened a session. Data: SessionOpen.
	KindSessionOpen Kind = "session_open"
	// KindUserResolved: a session opened offline (card only) learned its
	// user. Data: UserResolved.
	KindUserResolved Kind = "user_resolved"
	// KindCredit: money taken into a session (coin in the box, note
	// stacked). Data: Credit. Session set.
	KindCredit Kind = "credit"
	// KindUnclaimed: money taken with no session (a pulse acceptor cannot be
	// inhibited). Data: Credit. Session empty. With a NoteID it also settles
	// that note's escrow: a sessionless one, or one escrowed for a session
	// that is no longer open (finished before the validator settled the
	// note): the note's money is then unclaimed cash, reported for the
	// cash-up and claimable like any other. A note of a session still open
	// must be credited to that session instead.
	KindUnclaimed Kind = "unclaimed"
	// KindClaim: unclaimed money moved into a session. Data: Claim.
	KindClaim Kind = "claim"
	// KindUnrecognised: cash in the box that matched no value. Data:
	// Unrecognised. Counted for the cash-up, credited to nobody.
	KindUnrecognised Kind = "unrecognised"
	// KindNoteEscrow: a note in escrow that the engine told the validator to
	// stack; it counts as money only when its KindCredit follows. Data:
	// NoteEscrow.
	KindNoteEscrow Kind = "note_escrow"
	// KindNoteReturned: a pending escrow note went back to the customer.
	// Data: NoteReturned.
	KindNoteReturned Kind = "note_returned"
	// KindCancel: a session with no money closed (Esc, card timeout).
	KindCancel Kind = "cancel"
	// KindFinish: the session is closed for money and waits to be booked.
	// Data: Finish. From here on the session belongs to booking.
	KindFinish Kind = "finish"
	// KindPaymentCreated: MyQ created (or we adopted) a payment for the
	// session. Data: PaymentCreated.
	KindPaymentCreated Kind = "payment_created"
	// KindPaymentDropped: a created payment was rolled back or vanished; a
	// new one will be created. Data: PaymentCreated (the dropped id).
	KindPaymentDropped Kind = "payment_dropped"
	// KindCommitted: the payment is committed; the money reached the
	// account. Data: Committed. Terminal.
	KindCommitted Kind = "committed"
	// KindAttention: booking hit an error retrying will not fix quickly; the
	// session stays pending and is retried slowly. Data: Attention.
	KindAttention Kind = "attention"
	// KindCounter: a device's event counter (ccTalk), so a restart neither
	// re-credits nor drops coins. Data: Counter.
	KindCounter Kind = "counter"
	// KindCashup: the technician emptied the cash box; totals restart.
	// Data: Cashup.
	KindCashup Kind = "cashup"
	// KindCarry: written only by compaction: the cash-up totals of the
	// history it folded away. Data: Carry.
	KindCarry Kind = "carry"
	// KindDiscrepancy: money a device reported that the kiosk cannot
	// attribute (a note's credit after a restart that matches neither the
	// note in escrow nor a credit awaiting its acknowledgement). Credited
	// to nobody, never claimable: it is reported for the cash-up as needing
	// attention. Data: Discrepancy.
	KindDiscrepancy Kind = "discrepancy"
)

// Known reports whether k is one of the kinds above.
func (k Kind) Known() bool {
	switch k {
	case KindSessionOpen, KindUserResolved, KindCredit, KindUnclaimed, KindClaim,
		KindUnrecognised, KindNoteEscrow, KindNoteReturned, KindCancel, KindFinish,
		KindPaymentCreated, KindPaymentDropped, KindCommitted, KindAttention,
		KindCounter, KindCashup, KindCarry, KindDiscrepancy:
		return true
	}
	return k.voucher()
}

// Record is one line of the journal. Seq is assigned by Append: strictly
// increasing across the life of the journal, compaction included.
type Record struct {
	Kind    Kind            `json:"k"`
	Session string          `json:"s,omitempty"`
	Seq     uint64          `json:"n"`
	Time    time.Time       `json:"t"`
	Data    json.RawMessage `json:"d,omitempty"`
}

// New builds a record with data marshalled; Seq is left for Append.
func New(kind Kind, session string, at time.Time, data any) Record {
	r := Record{Kind: kind, Session: session, Time: at.UTC()}
	if data != nil {
		b, err := json.Marshal(data)
		if err != nil {
			// Every payload type below marshals; a failure is a programming error.
			panic(fmt.Sprintf("journal: marshal %s: %v", kind, err))
		}
		r.Data = b
	}
	return r
}

// Decode unmarshals the record's data into v, naming the record on error.
func (r Record) Decode(v any) error {
	if err := json.Unmarshal(r.Data, v); err != nil {
		return fmt.Errorf("journal: record %d (%s): %w", r.Seq, r.Kind, err)
	}
	return nil
}

// SessionOpen is the data of KindSessionOpen.
type SessionOpen struct {
	Card     string `json:"card"`               // transformed card number (the file is 0600; logs mask it)
	UserID   int64  `json:"user_id,omitempty"`  // 0: not known yet (MyQ was unreachable)
	Username string `json:"username,omitempty"` //
	FullName string `json:"full_name,omitempty"`
	Offline  bool   `json:"offline,omitempty"` // opened without MyQ's answer
}

// UserResolved is the data of KindUserResolved.
type UserResolved struct {
	UserID   int64  `json:"user_id"`
	Username string `json:"username,omitempty"`
	FullName string `json:"full_name,omitempty"`
}

// Credit is the data of KindCredit and KindUnclaimed.
type Credit struct {
	Device  string `json:"device"`
	Key     string `json:"key"`    // values key: pulse count, coin position, channel
	Amount  int64  `json:"amount"` // minor units
	Counter int    `json:"counter,omitempty"`
	NoteID  string `json:"note_id,omitempty"`
}

// Discrepancy is the data of KindDiscrepancy.
type Discrepancy struct {
	Credit
	Why string `json:"why"`
}

// Claim is the data of KindClaim: the Seqs of the KindUnclaimed records the
// session took over, and their sum.
type Claim struct {
	Seqs   []uint64 `json:"seqs"`
	Amount int64    `json:"amount"`
}

// Unrecognised is the data of KindUnrecognised.
type Unrecognised struct {
	Device  string `json:"device"`
	What    string `json:"what"`
	Counter int    `json:"counter,omitempty"` // the device's event counter (ccTalk)
}

// NoteEscrow is the data of KindNoteEscrow.
type NoteEscrow struct {
	// Session is filled in by the Ledger from the record's Session when it
	// reports pending notes; it is not part of the written data.
	Session string `json:"-"`
	Device  string `json:"device"`
	NoteID  string `json:"note_id"`
	Key     string `json:"key"`
	Amount  int64  `json:"amount"`
}

// NoteReturned is the data of KindNoteReturned.
type NoteReturned struct {
	Device string `json:"device"`
	NoteID string `json:"note_id"`
}

// Finish is the data of KindFinish. Reference is unique per session
// ("<kiosk id>/<session id>") and goes into the payment description: it is how
// an ambiguous outcome is resolved by listing the user's payments.
type Finish struct {
	Total     int64  `json:"total"`
	Reference string `json:"reference"`
	UserID    int64  `json:"user_id,omitempty"` // 0: resolve by Card when booking
	Card      string `json:"card,omitempty"`
	FullName  string `json:"full_name,omitempty"`
	Reason    string `json:"reason,omitempty"` // "enter", "idle", "max", "restart", "shutdown"
	// Offline: the session was opened without MyQ's answer (UserID, if
	// set, came from the card cache): booking looks the card up again
	// before it books, and a card that changed owner needs attention.
	Offline bool `json:"offline,omitempty"`
}

// PaymentCreated is the data of KindPaymentCreated and KindPaymentDropped.
type PaymentCreated struct {
	PaymentID string `json:"payment_id"`
	UserID    int64  `json:"user_id"`
}

// Committed is the data of KindCommitted.
type Committed struct {
	PaymentID string `json:"payment_id"`
	Balance   *int64 `json:"balance,omitempty"` // the new balance when MyQ told it
}

// Attention is the data of KindAttention.
type Attention struct {
	Reason string `json:"reason"`
}

// Counter is the data of KindCounter.
type Counter struct {
	Device  string `json:"device"`
	Counter int    `json:"counter"`
}

// Cashup is the data of KindCashup: what the box held when emptied.
type Cashup struct {
	By     string     `json:"by,omitempty"`
	Totals CashTotals `json:"totals"`
}

// Carry is the data of KindCarry: cash-up totals of compacted history.
type Carry struct {
	Totals CashTotals `json:"totals"`
	// Counters is the last event counter per device at compaction: the
	// records that set them may have been folded away.
	Counters map[string]int `json:"counters,omitempty"`
	// Unacked is the ledger's credits awaiting their acknowledgement at
	// compaction: the escrow records that settled older ones may have been
	// folded away, so replaying the live records alone could revive one.
	Unacked map[string]UnackedCredit `json:"unacked,omitempty"`
}

// CashTotals is cash in the box since the last cash-up, by where it went.
// Denominations are keyed "<device>:<key>" and count pieces.
type CashTotals struct {
	Pieces       map[string]int64 `json:"pieces,omitempty"`
	Accepted     int64            `json:"accepted"`     // all money taken (credited + unclaimed)
	Committed    int64            `json:"committed"`    // booked into MyQ
	Pending      int64            `json:"pending"`      // finished, not yet committed
	InSession    int64            `json:"in_session"`   // in an open session
	Unclaimed    int64            `json:"unclaimed"`    // taken with no session, not claimed
	Unrecognised int64            `json:"unrecognised"` // count of unrecognised cash events
	// Attention: money a technician must look at: pending sessions that
	// need attention and discrepancies (KindDiscrepancy). Not in Pending.
	Attention int64 `json:"attention,omitempty"`
}
