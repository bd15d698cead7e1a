// Package kiosk owns the top-up session: the rules of DESIGN.md "The money
// flow" as a pure engine (events and a clock in, screen state and commands
// out, the journal its only I/O) and the runner that gives the engine its one
// goroutine, its timers, the card lookups and the card cache.
// See docs/ARCHITECTURE.md for its place among the packages.
//
// The engine writes the journal synchronously inside its handlers, so
// "journaled before counted" is a property of each handler: a Total never
// moves unless the record that carries the money was appended (fsync
// returned). Network I/O is never done by the engine: it returns Commands
// that the runner carries out.
package kiosk

import (
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/printroom/voucherkiosk/devices"
	"github.com/printroom/voucherkiosk/devices/voucher"
	"github.com/printroom/voucherkiosk/kiosk/journal"
)

// Defaults for the Config durations left zero.
const (
	DefaultMessageFor   = 15 * time.Second
	DefaultBookingWait  = 8 * time.Second
	DefaultIdleFinish   = 20 * time.Second
	DefaultCardTimeout  = 30 * time.Second
	DefaultNoteWait     = 5 * time.Minute
	DefaultJournalRetry = 5 * time.Second
	DefaultClaimWindow  = 60 * time.Second
	// FollowOnWindow: money credited this long after a session finished
	// (or while its result screen shows) is a follow-on top-up of the
	// same user (a coin still in the chute after Enter).
	FollowOnWindow = 3 * time.Second
)

// Config is what the engine's rules depend on.
type Config struct {
	KioskID  string
	Currency string
	MinTopup int64 // minor units
	MaxTopup int64 // minor units; 0 = no limit
	// IdleFinish: a session at or above MinTopup books itself this long after
	// its last credit.
	IdleFinish time.Duration
	// CardTimeout: a session with no money closes this long after it opened;
	// a session below MinTopup books what it has this long after its last
	// credit (money is never cancelled).
	CardTimeout time.Duration
	// MessageFor: how long "not registered" and receipt screens stay.
	MessageFor time.Duration
	// BookingWait: with no booking result after this, the screen says "saved
	// offline" (the money is safe in the journal and the queue).
	BookingWait time.Duration
	Accepted    []int64 // the coin and note values the kiosk takes

	// CardReader and AcceptorNames are the configured device names, so a
	// StatusChange can tell which kind of device went away. Empty: that
	// out-of-service rule is off.
	CardReader    string
	AcceptorNames []string
	// Escrowing names the acceptors that hold a note in escrow before
	// stacking it (bill validators). A credit of theirs without a note
	// identity (after a restart) is matched with care: a repeat of a
	// credit whose acknowledgement was outstanding, else the newest note
	// in escrow, else a discrepancy for the cash-up; never an older note
	// by channel alone.
	Escrowing []string
	// NoteWait bounds how long a session waits for a stacked note to settle
	// (credit or returned) before it finishes without it; the note's credit,
	// should it still come, is then unclaimed cash. Default 5 minutes: the
	// validator driver promises a settlement, this only keeps a dead
	// validator from holding the kiosk forever.
	NoteWait time.Duration
	// JournalRetry: while the journal fails, how often a Tick retries it.
	JournalRetry time.Duration
	// ClaimWindow: cash inserted while idle may be claimed by the first
	// card tapped within this long of its insertion ([kiosk] claim_window).
	ClaimWindow time.Duration
	// Cashboxes are the acceptors' cash boxes, one per acceptor, for the
	// capacity rule (capacity.go). Empty: no box is ever near full.
	Cashboxes []Cashbox
	// Log receives what the engine must tell the technician, above all money
	// held in memory while the journal cannot be written. Nil: discarded.
	Log *slog.Logger
	// Voucher: MyQ vouchers in a session (voucher.go).
	Voucher VoucherRules
	// OnCardPause and OnCardIgnored, when set, count the card reader's
	// pauses after unregistered cards (cardguard.go); called on the loop.
	OnCardPause   func(time.Duration)
	OnCardIgnored func()
}

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.MessageFor, DefaultMessageFor)
	def(&c.BookingWait, DefaultBookingWait)
	def(&c.IdleFinish, DefaultIdleFinish)
	def(&c.CardTimeout, DefaultCardTimeout)
	def(&c.NoteWait, DefaultNoteWait)
	def(&c.JournalRetry, DefaultJournalRetry)
	def(&c.ClaimWindow, DefaultClaimWindow)
	c.Accepted = slices.Clone(c.Accepted)
	slices.Sort(c.Accepted)
	c.Voucher = c.Voucher.withDefaults()
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return c
}

// Journal is the one piece of I/O the engine does. Append returns once the
// records are durable (fsync returned); the Seq of recs[i] is firstSeq+i.
//
// While the journal fails, the engine retries it on a Tick every
// Config.JournalRetry: a journal that has a Probe method (Prober) is asked
// first, and may heal itself there (*journal.Journal does); then held money
// is appended again. A journal without Probe is assumed healed until the
// next append says otherwise (no money counts before an append succeeds
// either way).
type Journal interface {
	Append(recs ...journal.Record) (firstSeq uint64, err error)
}

// Prober is an optional Journal method: check the journal can be written now.
type Prober interface {
	Probe() error
}

// Events the engine handles besides the devices events.
type (
	// KeyPress is a key the student pressed.
	KeyPress struct{ Key Key }
	// Tick says a deadline may be due; it carries nothing, the time comes
	// with Handle.
	Tick struct{}
	// LookupResult answers LookupCard. Err non-nil and not NotFound means
	// MyQ was unreachable; User may then come from the card cache.
	LookupResult struct {
		SessionID string
		Card      string
		User      *User
		NotFound  bool
		// Inactive (with NotFound): the card belongs to a MyQ user whose
		// account is not active.
		Inactive bool
		Err      error
	}
	// BookingResult answers Book. Committed=false: saved in the queue.
	BookingResult struct {
		SessionID string
		Committed bool
		Balance   *int64
		Attention string
		Err       error
	}
	// QueueUpdate is the booking queue's latest status.
	QueueUpdate struct{ QueueStatus }
	// BalanceUpdate is a user's balance that MyQ told after the screen it
	// belongs to was shown: the greeting (After=false) and "credited"
	// (After=true, the balance after commit) never wait for it.
	BalanceUpdate struct {
		SessionID string
		Balance   int64
		After     bool
	}
)

// Command is something the engine asks the runner to do.
type Command interface{ command() }

type (
	// LookupCard asks the directory who the card belongs to; the answer comes
	// back as a LookupResult with the same SessionID.
	LookupCard struct {
		SessionID string
		Card      string // whole card number: never log it (devices.MaskCard)
	}
	// SetAccepting enables or inhibits every acceptor; Refuse lists the
	// acceptors that stay inhibited while On (cash box near full).
	SetAccepting struct {
		On     bool
		Refuse []string
	}
	// Decide answers a note in escrow (send on Escrow.Decide).
	Decide struct {
		Escrow   devices.Escrow
		Decision devices.EscrowDecision
	}
	// Book hands a finished session to booking; the answer comes back as a
	// BookingResult.
	Book struct {
		SessionID string
		Finish    journal.Finish
	}
	// CacheUser asks the runner to remember card -> user for offline use.
	CacheUser struct {
		Card string
		User User
	}
	// AckCredit releases a driver's confirmation of a credit to its device
	// (devices.Credit.Ack): the engine returns it only once the credit's
	// record is durable, which may be at a later Tick when the journal
	// heals. Until then the device keeps the credit to report it again.
	AckCredit struct{ Ack func() }
)

func (LookupCard) command()   {}
func (SetAccepting) command() {}
func (Decide) command()       {}
func (Book) command()         {}
func (CacheUser) command()    {}
func (AckCredit) command()    {}

// Finish reasons written in journal.Finish.Reason.
const (
	ReasonEnter    = "enter"
	ReasonIdle     = "idle"
	ReasonMax      = "max"     // idle finish of a session whose max_topup was reached
	ReasonTimeout  = "timeout" // below min_topup, no new money for card_timeout: booked anyway
	ReasonNoteWait = "note_wait"
	ReasonRestart  = "restart"
	ReasonShutdown = "shutdown"
	ReasonFollowOn = "follow_on" // money that landed just after its student's session finished
)

type session struct {
	id        string
	card      string // whole: goes into the journal and the Finish, never to State
	user      *User
	offline   bool
	opened    time.Time
	total     int64
	lastMoney time.Time // last credit (or the open, when it claimed cash)
	activity  time.Time // what card_timeout counts from for a session with no money
	finishReq bool      // Enter pressed while a note was in escrow
}

// closing is a session no longer on screen that is still open in the
// journal: restored at start, or parked because its note never settled. It
// is finished (money) or cancelled (none) as soon as it has no note in escrow
// and the journal takes the record.
type closing struct {
	s      *session
	reason string
}

// Engine is the session state machine. It is not safe for concurrent use:
// the runner owns it on one goroutine.
type Engine struct {
	cfg   Config
	j     Journal
	newID func() string
	log   *slog.Logger

	now   time.Time
	phase Phase // the flow; State().Phase may show out of service over it
	sess  *session

	lookupID, lookupCard string

	msgUntil time.Time // NotRegistered, Credited, SavedOffline
	// rejected is the card of the NotRegistered screen: the student and the
	// staff need to see which card to register.
	rejected string
	// rejectedInactive: that card's MyQ account exists but is not active.
	rejectedInactive bool
	// finished is the session on the Booking, Credited and SavedOffline
	// screens, so they still say whose account the money goes to.
	finished     *session
	bookingID    string
	bookingSince time.Time
	receipt      *Receipt

	unclaimed []unclaimed
	notes     []pendingNote
	closing   []closing

	// unacked: per escrowing device, the last note credit journaled with
	// no escrow of that device since (journal.Ledger.Unacked).
	unacked map[string]journal.UnackedCredit
	// lastFin is the last session finished on screen, at lastFinAt: money
	// credited while its result shows or within FollowOnWindow is a
	// follow-on top-up of its user.
	lastFin   *session
	lastFinAt time.Time
	// closeNext: the next unclaimed record applied is closed at once (a
	// late note of a finished session is nobody else's).
	closeNext  bool
	held       []journal.Record // money (and settlements) the journal refused
	heldAcks   []func()         // held[i]'s device acknowledgement, nil none
	acks       []func()         // durable credits whose Ack is owed to the runner
	jErr       error
	jRetryAt   time.Time
	shutdown   bool
	accepting  bool
	boxes      cashboxes
	refusing   []string // the Refuse of the last SetAccepting
	devices    map[string]devices.StatusChange
	queue      QueueStatus
	lastIDs    []string
	seq        uint64
	lastState  State
	stateValid bool
	nt         notices
	v          voucherState
	guard      cardGuard
}

// NewEngine makes an idle engine. newID returns a short random string for
// session ids (nil: 3 random bytes in hex).
func NewEngine(cfg Config, j Journal, now time.Time, newID func() string) *Engine {
	cfg = cfg.withDefaults()
	if newID == nil {
		newID = RandomID
	}
	e := &Engine{cfg: cfg, j: j, newID: newID, log: cfg.Log, now: now, devices: map[string]devices.StatusChange{},
		unacked: map[string]journal.UnackedCredit{}, boxes: newCashboxes(cfg.Cashboxes)}
	e.snapshot()
	return e
}

// Handle applies one event at time now and returns what the runner must do.
func (e *Engine) Handle(ev any, now time.Time) []Command {
	if now.After(e.now) {
		e.now = now
	}
	var cmds []Command
	switch ev := ev.(type) {
	case devices.CardRead:
		cmds = e.onCard(ev)
	case devices.Credit:
		e.boxes.add(ev.Device)
		cmds = e.onCredit(ev)
	case devices.Escrow:
		cmds = e.onEscrow(ev)
	case devices.NoteReturned:
		e.onNoteReturned(ev)
	case devices.UnrecognisedCash:
		e.onUnrecognised(ev)
	case devices.StatusChange:
		e.devices[ev.Device] = ev
	case KeyPress:
		cmds = e.onKey(ev.Key)
	case Tick:
		if e.jErr != nil && !e.now.Before(e.jRetryAt) {
			e.recoverJournal()
		}
	case LookupResult:
		cmds = e.onLookup(ev)
	case BalanceUpdate:
		e.onBalance(ev)
	case BookingResult:
		e.onBooking(ev)
	case QueueUpdate:
		e.queue = ev.QueueStatus
		e.queueReached(ev.Online)
	case CashboxPieces:
		e.boxes.set(ev)
	case VoucherCode:
		cmds = e.onVoucherCode(ev)
	case VoucherResult:
		cmds = e.onVoucherResult(ev)
	case *devices.Escrow:
		if ev != nil {
			cmds = e.onEscrow(*ev)
		}
	case voucher.Scan:
		cmds = e.onVoucherCode(VoucherCode{Code: ev.Code, Source: "scanner"})
	default:
		e.log.Warn("engine: unknown event ignored", "type", fmt.Sprintf("%T", ev))
	}
	cmds = append(cmds, e.due()...)
	cmds = append(cmds, e.acceptingCmd()...)
	cmds = append(cmds, e.takeAcks()...)
	e.snapshot()
	return cmds
}

// State is a deep copy of what the screen shows.
func (e *Engine) State() State { return e.lastState.clone() }

// NextDeadline is the earliest time a Tick has something to do; zero when
// nothing is scheduled (the runner then sleeps until an event).
func (e *Engine) NextDeadline() time.Time {
	var t time.Time
	add := func(d time.Time) {
		if !d.IsZero() && (t.IsZero() || d.Before(t)) {
			t = d
		}
	}
	if e.jErr != nil {
		add(e.jRetryAt)
	}
	add(e.voucherDeadline())
	switch e.phase {
	case PhaseSession:
		at, _ := e.finishAt()
		add(at)
		add(e.closeAt())
		if w := e.noteWaitUntil(); !w.IsZero() {
			add(w)
		}
	case PhaseNotRegistered, PhaseCredited, PhaseSavedOffline:
		add(e.msgUntil)
	case PhaseBooking:
		add(e.bookingSince.Add(e.cfg.BookingWait))
	}
	return t
}

// ---- devices events ----

func (e *Engine) onCard(c devices.CardRead) []Command {
	if e.shutdown || c.Number == "" || e.cardPaused(c) {
		return nil
	}
	if e.displayPhase() == PhaseOutOfService {
		e.log.Info("engine: card ignored: out of service", "card", devices.MaskCard(c.Number))
		return nil
	}
	switch e.phase {
	case PhaseBooking:
		return nil // the previous student is still waiting for their receipt
	case PhaseSession:
		if e.sess.total > 0 || len(e.sessionNotes()) > 0 || e.voucherHeld(e.sess) {
			if c.Number != e.sess.card {
				e.notify(NoticeSecondCard)
			}
			return nil // a session with money is never replaced
		}
		if c.Number == e.sess.card {
			e.sess.activity = e.now // the same card again: keep it alive
			return nil
		}
		if err := e.cancel(e.sess); err != nil {
			return nil
		}
	}
	e.sess = nil
	e.receipt = nil
	e.rejected, e.finished = "", nil
	e.phase = PhaseLookingUp
	e.lookupID = e.nextSessionID()
	e.lookupCard = c.Number
	for i := range e.unclaimed {
		u := &e.unclaimed[i]
		switch {
		case u.offer != "":
			u.closed = true // offered to an earlier card whose lookup opened nothing
		case e.claimable(*u):
			u.offer = e.lookupID // the first card tapped within the window
		default:
			u.closed = true
		}
	}
	return []Command{LookupCard{SessionID: e.lookupID, Card: c.Number}}
}

func (e *Engine) onLookup(r LookupResult) []Command {
	if e.phase != PhaseLookingUp || r.SessionID != e.lookupID {
		return nil // stale: the card was replaced or the kiosk moved on
	}
	card := e.lookupCard
	e.lookupID, e.lookupCard = "", ""
	var cmds []Command
	s := &session{id: r.SessionID, card: card, opened: e.now, activity: e.now}
	e.lookupReached(r.Err == nil)
	switch {
	case r.NotFound:
		e.closeOffers(r.SessionID)
		e.phase = PhaseNotRegistered
		e.rejected, e.rejectedInactive = card, r.Inactive
		e.msgUntil = e.now.Add(e.cfg.MessageFor)
		e.cardUnregistered()
		return nil
	case r.Err != nil:
		s.offline = true
		s.user = cloneUser(r.User)
		e.log.Warn("engine: directory unreachable, session opened offline",
			"session", s.id, "card", devices.MaskCard(card), "cached_user", r.User != nil, "err", r.Err)
	default:
		if r.User == nil {
			// Found with no user is a broken answer: treat it as offline.
			s.offline = true
		} else {
			s.user = cloneUser(r.User)
			cmds = append(cmds, CacheUser{Card: card, User: *cloneUser(r.User)})
		}
	}
	open := journal.SessionOpen{Card: card, Offline: s.offline}
	if s.user != nil {
		open.UserID, open.Username, open.FullName = s.user.ID, s.user.Username, s.user.FullName
	}
	recs := []journal.Record{journal.New(journal.KindSessionOpen, s.id, e.now, open)}
	var claim journal.Claim
	for _, u := range e.unclaimed {
		if u.offer == s.id && !u.closed {
			claim.Seqs = append(claim.Seqs, u.seq)
			claim.Amount += u.amount
		}
	}
	if len(claim.Seqs) > 0 {
		recs = append(recs, journal.New(journal.KindClaim, s.id, e.now, claim))
	}
	if _, err := e.append(recs...); err != nil {
		e.closeOffers(s.id)
		e.phase = PhaseIdle // out of service shows over it; the student taps again later
		return cmds
	}
	e.unclaimed = slices.DeleteFunc(e.unclaimed, func(u unclaimed) bool { return u.offer == s.id && !u.closed })
	s.total = claim.Amount
	if claim.Amount > 0 {
		s.lastMoney = e.now
	}
	e.sess = s
	e.phase = PhaseSession
	return cmds
}

// ---- keys, lookups, bookings ----

func (e *Engine) onKey(k Key) []Command {
	if cmds, ok := e.voucherKey(k); ok {
		return cmds
	}
	switch e.phase {
	case PhaseSession:
		s := e.sess
		switch k {
		case KeyEnter:
			if len(e.sessionNotes()) > 0 {
				s.finishReq = true // finish when the note settles
				return nil
			}
			if s.total <= 0 || s.total < e.cfg.MinTopup {
				return nil // BelowMin tells the student what is missing
			}
			return e.finish(s, ReasonEnter)
		case KeyEsc:
			if s.total == 0 && len(e.sessionNotes()) == 0 {
				if e.cancel(s) == nil {
					e.toIdle()
				}
			} else {
				e.notify(NoticeEscRefused)
			}
		case KeyMore:
			e.extendSession()
		}
	case PhaseNotRegistered:
		if k != KeyMore {
			e.toIdle() // Enter or Esc dismisses the message
		}
	case PhaseCredited, PhaseSavedOffline:
		if k == KeyEnter {
			e.toIdle() // Enter only: a stray key must not hide the receipt before its photo
		}
	}
	return nil
}

// onBalance shows a balance that arrived after the screen it belongs to:
// the greeting does not wait for it, nor does "credited".
func (e *Engine) onBalance(b BalanceUpdate) {
	if b.SessionID == "" {
		return
	}
	bal := b.Balance
	if s := e.sess; s != nil && s.id == b.SessionID && s.user != nil && e.phase == PhaseSession {
		if b.After {
			return // a balance after commit has no place on a session screen
		}
		s.user.Balance = &bal
		return
	}
	if b.After && b.SessionID == e.bookingID && e.receipt != nil && e.phase == PhaseCredited {
		e.receipt.NewBalance, e.receipt.BalanceAbout = &bal, false
	}
}

func (e *Engine) onBooking(r BookingResult) {
	if r.SessionID == "" || r.SessionID != e.bookingID || e.receipt == nil {
		return
	}
	switch e.phase {
	case PhaseBooking, PhaseSavedOffline:
	default:
		return
	}
	if r.Committed {
		late := e.phase == PhaseSavedOffline
		e.phase = PhaseCredited
		if r.Balance != nil {
			e.receipt.NewBalance = cloneInt(r.Balance)
		} else if s := e.finished; s != nil && s.user != nil && s.user.Balance != nil {
			// No request for it: the balance MyQ gave at the lookup plus
			// the amount just committed.
			nb := *s.user.Balance + e.receipt.Amount
			e.receipt.NewBalance, e.receipt.BalanceAbout = &nb, late
		}
	} else {
		e.phase = PhaseSavedOffline
		if r.Err != nil || r.Attention != "" {
			e.log.Info("engine: session saved offline", "session", r.SessionID, "attention", r.Attention, "err", r.Err)
		}
	}
	if e.phase == PhaseCredited || e.msgUntil.Before(e.now) || e.msgUntil.IsZero() {
		e.msgUntil = e.now.Add(e.cfg.MessageFor)
	}
}

// ---- deadlines ----

func (e *Engine) due() []Command {
	var cmds []Command
	if len(e.closing) > 0 && e.jErr == nil {
		cmds = append(cmds, e.closeParked()...)
	}
	cmds = append(cmds, e.voucherDue()...)
	switch e.phase {
	case PhaseSession:
		s := e.sess
		if at, reason := e.finishAt(); !at.IsZero() && !e.now.Before(at) {
			return append(cmds, e.finish(s, reason)...)
		}
		if w := e.noteWaitUntil(); !w.IsZero() && !e.now.Before(w) {
			// The validator owes a settlement; the kiosk cannot wait for it
			// forever. The session leaves the screen but stays open in the
			// journal, and books itself (to the right account) once the
			// note is credited or returned.
			e.log.Error("engine: a stacked note did not settle; session parked until it does",
				"session", s.id, "notes", len(e.sessionNotes()), "total", s.total)
			e.closing = append(e.closing, closing{s: s, reason: ReasonNoteWait})
			e.toIdle()
			return cmds
		}
		if s.finishReq && len(e.sessionNotes()) == 0 {
			if s.total > 0 {
				return append(cmds, e.finish(s, ReasonEnter)...)
			}
			s.finishReq = false // the note went back: nothing to book, carry on
		}
		if at := e.closeAt(); !at.IsZero() && !e.now.Before(at) {
			e.closeEmpty(s)
		}
	case PhaseNotRegistered, PhaseCredited, PhaseSavedOffline:
		if !e.now.Before(e.msgUntil) {
			e.toIdle()
		}
	case PhaseBooking:
		if !e.now.Before(e.bookingSince.Add(e.cfg.BookingWait)) {
			e.phase = PhaseSavedOffline
			e.msgUntil = e.now.Add(e.cfg.MessageFor)
		}
	}
	return cmds
}

// finishAt is when the open session books itself, and why.
func (e *Engine) finishAt() (time.Time, string) {
	s := e.sess
	if s == nil || e.phase != PhaseSession || e.voucherBusy() {
		return time.Time{}, ""
	}
	return finishDeadline(s.total, s.lastMoney, len(e.sessionNotes()) > 0 || s.finishReq,
		maxReached(s.total, e.cfg.MaxTopup, e.cfg.Accepted), e.cfg)
}

func (e *Engine) closeAt() time.Time {
	s := e.sess
	if s == nil || e.phase != PhaseSession || s.total != 0 || len(e.sessionNotes()) > 0 || e.voucherBusy() {
		return time.Time{}
	}
	return s.activity.Add(e.cfg.CardTimeout)
}

// ---- session ends ----

func (e *Engine) finish(s *session, reason string) []Command {
	f := journal.Finish{Total: s.total, Reference: e.reference(s.id), Card: s.card, Reason: reason, Offline: s.offline}
	if s.user != nil {
		f.UserID, f.FullName = s.user.ID, s.user.FullName
	}
	if _, err := e.append(journal.New(journal.KindFinish, s.id, e.now, f)); err != nil {
		return nil // the session stays open; the deadline fires again after recovery
	}
	if e.sess == s {
		e.lastFin, e.lastFinAt = s, e.now
		e.sess = nil
		e.phase = PhaseBooking
		e.bookingID = s.id
		e.finished = s
		e.bookingSince = e.now
		e.receipt = &Receipt{Reference: f.Reference, Amount: f.Total, At: e.now, Vouchers: e.voucherLines(s)}
	}
	return []Command{Book{SessionID: s.id, Finish: f}}
}

func (e *Engine) cancel(s *session) error {
	_, err := e.append(journal.New(journal.KindCancel, s.id, e.now, nil))
	return err
}

func (e *Engine) toIdle() {
	e.phase = PhaseIdle
	e.sess = nil
	e.receipt = nil
	e.bookingID = ""
	e.rejected, e.finished = "", nil
	e.msgUntil = time.Time{}
	e.resetNotices()
}

func (e *Engine) reference(id string) string { return e.cfg.KioskID + "/" + id }

func (e *Engine) nextSessionID() string {
	for {
		id := SessionID(e.now, e.newID())
		if !slices.Contains(e.lastIDs, id) {
			e.lastIDs = append(e.lastIDs, id)
			if len(e.lastIDs) > 16 {
				e.lastIDs = e.lastIDs[1:]
			}
			return id
		}
	}
}

func (e *Engine) sessTotal() int64 {
	if e.sess == nil {
		return 0
	}
	return e.sess.total
}
