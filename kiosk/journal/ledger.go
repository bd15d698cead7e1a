package journal

import (
	"fmt"
	"maps"
	"slices"
	"sort"
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
	vouchers     map[string]*vch
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
		d, err := decodeData(r, fastSessionOpen)
		if err != nil {
			return err
		}
		if r.Session == "" {
			return recErr(r, "no session id")
		}
		if _, ok := l.sessions[r.Session]; ok {
			return recErr(r, "session opened twice")
		}
		l.sessions[r.Session] = &sess{id: r.Session, openSeq: r.Seq, open: d, opened: r.Time, recs: append(make([]Record, 0, 8), r)}

	case KindUserResolved:
		var d UserResolved
		if err := r.Decode(&d); err != nil {
			return err
		}
		s, ok := l.sessions[r.Session]
		if !ok {
			return recErr(r, "unknown session")
		}
		if st := s.state(); st != StateOpen && st != StatePending {
			return recErr(r, "session is %s", st)
		}
		if d.UserID <= 0 {
			return recErr(r, "user id %d", d.UserID)
		}
		s.resolved = &d
		s.recs = append(s.recs, r)

	case KindCredit:
		d, err := decodeData(r, fastCredit)
		if err != nil {
			return err
		}
		if err := checkAmount(r, d.Amount); err != nil {
			return err
		}
		s, err := l.openSession(r)
		if err != nil {
			return err
		}
		if d.NoteID != "" {
			// A stacked note settles its escrow record, if it had one.
			if n, ok := l.notes[noteKey{d.Device, d.NoteID}]; ok {
				if n.rec.Session != r.Session {
					return recErr(r, "note %s was escrowed for session %q", d.NoteID, n.rec.Session)
				}
				l.dropNote(noteKey{d.Device, d.NoteID})
			}
		}
		s.credits = append(s.credits, d)
		s.pieces = append(s.pieces, piece{d.Device, d.Key, d.Amount, l.epoch})
		s.total += d.Amount
		s.lastCredit = r.Time
		s.recs = append(s.recs, r)
		l.setCounter(d.Device, d.Counter)

	case KindUnclaimed:
		d, err := decodeData(r, fastCredit)
		if err != nil {
			return err
		}
		if err := checkAmount(r, d.Amount); err != nil {
			return err
		}
		if r.Session != "" {
			return recErr(r, "unclaimed cash names a session")
		}
		k := noteKey{d.Device, d.NoteID}
		n, settles := l.notes[k]
		if d.NoteID != "" && settles && n.rec.Session != "" {
			// A note settled after its session closed (the validator was
			// late) is nobody's money yet: unclaimed cash, never lost. While
			// its session is still open the money is that session's.
			s, ok := l.sessions[n.rec.Session]
			if !ok {
				return recErr(r, "note %s was escrowed for session %q, which the ledger does not know", d.NoteID, n.rec.Session)
			}
			if st := s.state(); st == StateOpen {
				return recErr(r, "note %s was escrowed for session %q, which is still open: credit it to that session", d.NoteID, n.rec.Session)
			}
		}
		if d.NoteID != "" && settles {
			l.dropNote(k)
			if s, ok := l.sessions[n.rec.Session]; ok {
				// The escrow record has no meaning left: drop it from the
				// session's records, so compaction never keeps an escrow
				// without the record that settled it. Into a new slice:
				// clones of the ledger share the old one (see sess.clone).
				s.recs = slices.DeleteFunc(slices.Clone(s.recs), func(x Record) bool { return x.Seq == n.rec.Seq })
				l.settled++
			}
		}
		l.unclaimed[r.Seq] = &unclaimed{rec: r, credit: d, piece: piece{d.Device, d.Key, d.Amount, l.epoch}}
		l.setCounter(d.Device, d.Counter)

	case KindClaim:
		var d Claim
		if err := r.Decode(&d); err != nil {
			return err
		}
		s, err := l.openSession(r)
		if err != nil {
			return err
		}
		if len(d.Seqs) == 0 {
			return recErr(r, "claims nothing")
		}
		var sum int64
		seen := map[uint64]bool{}
		for _, q := range d.Seqs {
			u, ok := l.unclaimed[q]
			if !ok {
				return recErr(r, "claims record %d, which is not unclaimed cash", q)
			}
			if u.claimedBy != "" || seen[q] {
				return recErr(r, "claims record %d, already claimed by session %q", q, u.claimedBy)
			}
			seen[q] = true
			sum += u.credit.Amount
		}
		if sum != d.Amount {
			return recErr(r, "claim amount %d, the claimed records sum to %d", d.Amount, sum)
		}
		for _, q := range d.Seqs {
			l.unclaimed[q].claimedBy = s.id
		}
		s.claims = append(s.claims, d.Seqs...)
		s.total += sum
		s.lastCredit = r.Time
		s.recs = append(s.recs, r)

	case KindUnrecognised:
		var d Unrecognised
		if err := r.Decode(&d); err != nil {
			return err
		}
		l.unrecognised++
		l.setCounter(d.Device, d.Counter)
		l.settled++

	case KindNoteEscrow:
		var d NoteEscrow
		if err := r.Decode(&d); err != nil {
			return err
		}
		if err := checkAmount(r, d.Amount); err != nil {
			return err
		}
		if d.NoteID == "" {
			return recErr(r, "note escrow without note id")
		}
		k := noteKey{d.Device, d.NoteID}
		if _, ok := l.notes[k]; ok {
			return recErr(r, "note %s already in escrow", d.NoteID)
		}
		var s *sess
		if r.Session != "" {
			var err error
			if s, err = l.openSession(r); err != nil {
				return err
			}
		}
		d.Session = r.Session
		l.notes[k] = &note{rec: r, note: d}
		if s != nil {
			s.notes++
			s.recs = append(s.recs, r)
		}

	case KindNoteReturned:
		var d NoteReturned
		if err := r.Decode(&d); err != nil {
			return err
		}
		k := noteKey{d.Device, d.NoteID}
		n, ok := l.notes[k]
		if !ok {
			return recErr(r, "note %s is not in escrow", d.NoteID)
		}
		if n.rec.Session != r.Session {
			return recErr(r, "note %s was escrowed for session %q", d.NoteID, n.rec.Session)
		}
		l.dropNote(k)
		if s, ok := l.sessions[r.Session]; ok {
			s.recs = append(s.recs, r)
		} else {
			l.settled += 2
		}

	case KindCancel:
		s, err := l.openSession(r)
		if err != nil {
			return err
		}
		if s.total != 0 {
			return recErr(r, "cannot cancel a session holding %d", s.total)
		}
		if s.notes != 0 {
			return recErr(r, "cannot cancel a session with %d note(s) in escrow", s.notes)
		}
		s.cancelled = true
		s.ended = r.Time
		s.recs = append(s.recs, r)
		l.settled += len(s.recs)

	case KindFinish:
		d, err := decodeData(r, fastFinish)
		if err != nil {
			return err
		}
		s, err := l.openSession(r)
		if err != nil {
			return err
		}
		if d.Total != s.total {
			return recErr(r, "finish total %d, the session's money is %d", d.Total, s.total)
		}
		if d.Total <= 0 {
			return recErr(r, "finish of a session with no money (cancel it)")
		}
		if d.Reference == "" {
			return recErr(r, "finish without reference")
		}
		s.finish = &d
		s.finished = r.Time
		s.finishSeq = r.Seq
		s.recs = append(s.recs, r)

	case KindPaymentCreated:
		d, err := decodeData(r, fastPaymentCreated)
		if err != nil {
			return err
		}
		s, err := l.pendingSession(r)
		if err != nil {
			return err
		}
		if d.PaymentID == "" {
			return recErr(r, "no payment id")
		}
		s.paymentID = d.PaymentID
		s.recs = append(s.recs, r)

	case KindPaymentDropped:
		d, err := decodeData(r, fastPaymentCreated)
		if err != nil {
			return err
		}
		s, err := l.pendingSession(r)
		if err != nil {
			return err
		}
		// Dropping an orphan (not the current payment) leaves the current one.
		if d.PaymentID == "" || d.PaymentID == s.paymentID {
			s.paymentID = ""
		}
		s.recs = append(s.recs, r)

	case KindCommitted:
		d, err := decodeData(r, fastCommitted)
		if err != nil {
			return err
		}
		s, err := l.pendingSession(r)
		if err != nil {
			return err
		}
		if d.PaymentID == "" {
			d.PaymentID = s.paymentID
		}
		s.committed = &d
		s.committedAt = r.Time
		s.ended = r.Time
		s.paymentID = d.PaymentID
		s.recs = append(s.recs, r)
		l.committed = append(l.committed, s.id)
		l.settled += len(s.recs) + len(s.claims)

	case KindAttention:
		var d Attention
		if err := r.Decode(&d); err != nil {
			return err
		}
		s, err := l.pendingSession(r)
		if err != nil {
			return err
		}
		s.attention = d.Reason
		s.recs = append(s.recs, r)

	case KindCounter:
		var d Counter
		if err := r.Decode(&d); err != nil {
			return err
		}
		if d.Device == "" {
			return recErr(r, "counter without device")
		}
		l.counters[d.Device] = d.Counter
		l.settled++

	case KindCashup:
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

	case KindCarry:
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
		l.settled++
	}
	return nil
}

func (l *Ledger) dropNote(k noteKey) {
	n := l.notes[k]
	delete(l.notes, k)
	if s, ok := l.sessions[n.rec.Session]; ok {
		s.notes--
	}
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
	for k, v := range d.Pieces {
		if t.Pieces == nil {
			t.Pieces = map[string]int64{}
		}
		t.Pieces[k] += v
	}
}

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
			PaymentID: s.paymentID, Attention: s.attention})
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
		case StateCommitted:
			t.Committed += p.amount
		default:
			t.Unclaimed += p.amount
		}
	}
	for _, s := range l.sessions {
		st := s.state()
		for _, p := range s.pieces {
			count(p, st)
		}
	}
	for _, u := range l.unclaimed {
		var st SessionState
		if u.claimedBy != "" {
			st = l.sessions[u.claimedBy].state()
		}
		count(u.piece, st)
	}
	if len(t.Pieces) == 0 {
		t.Pieces = nil
	}
	return t
}

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
	}, Counters: maps.Clone(l.counters)}
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
