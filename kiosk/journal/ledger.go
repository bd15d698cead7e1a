package journal

import (
	"fmt"
	"maps"
	"slices"
	"time"
)

// maxAmount bounds a single amount (minor units) so sums of hostile records
// cannot overflow int64: 10^12 minor units is far beyond any cash box.
const maxAmount = 1_000_000_000_000

// keepCommitted is how many of the most recent committed sessions
// compaction keeps, so the technician still sees the latest bookings.
const keepCommitted = 20

// SessionState is where a session is in the money flow.
type SessionState int

const (
	StateOpen      SessionState = iota + 1 // taking money
	StatePending                           // finished, waiting to be booked
	StateCommitted                         // booked into MyQ
	StateCancelled                         // closed with no money
)

func (s SessionState) String() string {
	switch s {
	case StateOpen:
		return "open"
	case StatePending:
		return "pending"
	case StateCommitted:
		return "committed"
	case StateCancelled:
		return "cancelled"
	}
	return fmt.Sprintf("SessionState(%d)", int(s))
}

// OpenSession is a session still taking money.
type OpenSession struct {
	ID           string
	Open         SessionOpen
	Opened       time.Time
	Total        int64 // credits + claims, minor units
	LastCredit   time.Time
	Credits      []Credit
	PendingNotes []NoteEscrow
	Resolved     *UserResolved
}

// PendingSession is a finished session not yet committed.
type PendingSession struct {
	ID        string
	Finish    Finish
	Finished  time.Time
	UserID    int64  // resolved user, 0 unknown
	PaymentID string // current payment, "" none
	Attention string // last attention reason, "" none
	// Verified: MyQ confirmed the session's user after it finished
	// (KindUserResolved), so an offline session need not be looked up again.
	Verified bool
}

// UnclaimedCash is money taken with no session, not yet claimed.
type UnclaimedCash struct {
	Seq    uint64
	Credit Credit
	At     time.Time
}

// CommittedSession is a booked session, for the technician.
type CommittedSession struct {
	ID        string
	Reference string
	Amount    int64
	UserID    int64
	PaymentID string
	Balance   *int64
	At        time.Time
}

// SessionInfo is everything the ledger knows about one session.
type SessionInfo struct {
	ID          string
	State       SessionState
	Open        SessionOpen
	Opened      time.Time
	Resolved    *UserResolved
	Total       int64
	Credits     []Credit
	Finish      *Finish
	Finished    time.Time
	PaymentID   string
	Attention   string
	Committed   *Committed
	CommittedAt time.Time
	Ended       time.Time // committed or cancelled
}

type piece struct {
	device, key string
	amount      int64
	epoch       int
}

// sess is one session's state. Its slices are append-only: clones of the
// ledger share their elements (see clone).
type sess struct {
	id          string
	openSeq     uint64
	open        SessionOpen
	opened      time.Time
	resolved    *UserResolved
	credits     []Credit
	pieces      []piece
	claims      []uint64
	total       int64
	lastCredit  time.Time
	finish      *Finish
	finished    time.Time
	finishSeq   uint64
	paymentID   string
	attention   string
	committed   *Committed
	committedAt time.Time
	cancelled   bool
	ended       time.Time
	notes       int // pending escrow notes of this session
	recs        []Record
}

func (s *sess) state() SessionState {
	switch {
	case s.cancelled:
		return StateCancelled
	case s.committed != nil:
		return StateCommitted
	case s.finish != nil:
		return StatePending
	}
	return StateOpen
}

// clone copies s for another ledger. Its slices are append-only (no
// element is ever written in place, see the escrow case of KindUnclaimed),
// so the copy shares their elements instead of copying them, which makes
// Clone (done at every Open, Snapshot and batch Append) several times
// cheaper: capping the copy's slices at their length makes its appends
// allocate, and the original's appends land beyond the copy's length,
// where the copy never looks.
func (s *sess) clone() *sess {
	c := *s
	c.credits = slices.Clip(s.credits)
	c.pieces = slices.Clip(s.pieces)
	c.claims = slices.Clip(s.claims)
	c.recs = slices.Clip(s.recs)
	return &c
}

type unclaimed struct {
	rec       Record
	credit    Credit
	piece     piece
	claimedBy string
}

type noteKey struct{ device, id string }

type note struct {
	rec  Record
	note NoteEscrow
}

// Ledger is the meaning of the journal: the one fold of records into
// sessions, queue, unclaimed cash, counters and cash-up totals that the
// engine, booking and the tools share. Apply is strict: a record that does
// not fit the state is an error and changes nothing.
//
// A Ledger is not safe for concurrent use; the Journal guards its own and
// hands out copies (Snapshot).
type Ledger struct {
	lastSeq      uint64
	sessions     map[string]*sess
	committed    []string // session ids in commit order
	unclaimed    map[uint64]*unclaimed
	notes        map[noteKey]*note
	counters     map[string]int
	epoch        int        // bumped by each cash-up
	carry        CashTotals // carried into the current epoch by compaction
	unrecognised int64      // unrecognised events in the current epoch
	lastCashup   *Record
	settled      int // records compaction could fold (approximate)
	// unacked is, per escrowing device, the last note credit journaled
	// with no escrow of that device after it: the device may not have had
	// its acknowledgement (crash in the EVENT_ACK window) and may report
	// that credit again after a restart. A later escrow proves it was
	// acknowledged: the validator reports nothing new before that.
	unacked map[string]UnackedCredit
	// discrepancies: KindDiscrepancy records of this and earlier epochs.
	discrepancies []discrepancy
	vouchers      map[string]*vch
}

// UnackedCredit is a note credit whose acknowledgement to the device may
// be outstanding.
type UnackedCredit struct {
	Credit
	Seq uint64
}

type discrepancy struct {
	rec   Record
	piece piece
}

// Snapshot is a deep copy of a Journal's ledger at one moment: the queries
// of Ledger on a value nobody else changes.
type Snapshot struct {
	*Ledger
}

// NewLedger returns an empty ledger.
func NewLedger() *Ledger {
	return &Ledger{
		sessions:  map[string]*sess{},
		unclaimed: map[uint64]*unclaimed{},
		notes:     map[noteKey]*note{},
		counters:  map[string]int{},
		unacked:   map[string]UnackedCredit{},
	}
}

// Clone returns a deep copy.
func (l *Ledger) Clone() *Ledger {
	c := *l
	c.sessions = make(map[string]*sess, len(l.sessions))
	for k, s := range l.sessions {
		c.sessions[k] = s.clone()
	}
	c.committed = slices.Clone(l.committed)
	c.unclaimed = make(map[uint64]*unclaimed, len(l.unclaimed))
	for k, u := range l.unclaimed {
		uc := *u
		c.unclaimed[k] = &uc
	}
	c.notes = make(map[noteKey]*note, len(l.notes))
	for k, n := range l.notes {
		nc := *n
		c.notes[k] = &nc
	}
	c.counters = maps.Clone(l.counters)
	c.unacked = maps.Clone(l.unacked)
	c.discrepancies = slices.Clip(l.discrepancies)
	c.carry.Pieces = maps.Clone(l.carry.Pieces)
	c.vouchers = l.cloneVouchers()
	return &c
}

// LastSeq is the Seq of the last record applied.
func (l *Ledger) LastSeq() uint64 { return l.lastSeq }

func recErr(r Record, format string, args ...any) error {
	return fmt.Errorf("journal: record %d (%s, session %q): %s", r.Seq, r.Kind, r.Session, fmt.Sprintf(format, args...))
}

func checkAmount(r Record, a int64) error {
	if a <= 0 || a > maxAmount {
		return recErr(r, "amount %d out of range", a)
	}
	return nil
}

// openSession returns the session r names, which must be open.
func (l *Ledger) openSession(r Record) (*sess, error) {
	s, ok := l.sessions[r.Session]
	if !ok {
		return nil, recErr(r, "unknown session")
	}
	if st := s.state(); st != StateOpen {
		return nil, recErr(r, "session is %s, not open", st)
	}
	return s, nil
}

// pendingSession returns the session r names, which must be finished and
// not committed.
func (l *Ledger) pendingSession(r Record) (*sess, error) {
	s, ok := l.sessions[r.Session]
	if !ok {
		return nil, recErr(r, "unknown session")
	}
	if st := s.state(); st != StatePending {
		return nil, recErr(r, "session is %s, not pending", st)
	}
	return s, nil
}

// Apply folds one record into the ledger. It checks everything before it
// changes anything, so a failed Apply leaves the ledger as it was.
func (l *Ledger) Apply(r Record) error {
	if !r.Kind.Known() {
		return recErr(r, "unknown kind")
	}
	if r.Seq <= l.lastSeq {
		return recErr(r, "seq not increasing (last %d)", l.lastSeq)
	}
	if err := l.apply(r); err != nil {
		return err
	}
	l.lastSeq = r.Seq
	return nil
}

func (l *Ledger) apply(r Record) error {
	if r.Kind.voucher() {
		return l.applyVoucher(r)
	}
	switch r.Kind {
	case KindSessionOpen:
		return l.applySessionOpen(r)
	case KindUserResolved:
		return l.applyUserResolved(r)
	case KindCredit:
		return l.applyCredit(r)
	case KindUnclaimed:
		return l.applyUnclaimed(r)
	case KindClaim:
		return l.applyClaim(r)
	case KindUnrecognised:
		return l.applyUnrecognised(r)
	case KindNoteEscrow:
		return l.applyNoteEscrow(r)
	case KindNoteReturned:
		return l.applyNoteReturned(r)
	case KindCancel:
		return l.applyCancel(r)
	case KindFinish:
		return l.applyFinish(r)
	case KindPaymentCreated:
		return l.applyPaymentCreated(r)
	case KindPaymentDropped:
		return l.applyPaymentDropped(r)
	case KindCommitted:
		return l.applyCommitted(r)
	case KindAttention:
		return l.applyAttention(r)
	case KindCounter:
		return l.applyCounter(r)
	case KindCashup:
		return l.applyCashup(r)
	case KindDiscrepancy:
		return l.applyDiscrepancy(r)
	case KindCarry:
		return l.applyCarry(r)
	}
	return nil
}
