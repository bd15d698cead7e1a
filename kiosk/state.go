package kiosk

import (
	"time"

	"github.com/printroom/voucherkiosk/devices"
)

// Phase is what the screen is showing.
type Phase int

const (
	PhaseIdle          Phase = iota // "tap your card"; Unclaimed may be > 0
	PhaseLookingUp                  // card read, asking MyQ who it is
	PhaseNotRegistered              // MyQ does not know the card
	PhaseSession                    // a session is open: user or card, total, countdown
	PhaseBooking                    // finished, booking in progress
	PhaseCredited                   // booked: receipt, new balance
	PhaseSavedOffline               // saved in the queue: receipt, "will be credited automatically"
	PhaseOutOfService               // cannot take money; OutOfService says why
)

var phaseNames = [...]string{"idle", "looking up", "not registered", "session", "booking", "credited", "saved offline", "out of service"}

func (p Phase) String() string {
	if p >= 0 && int(p) < len(phaseNames) {
		return phaseNames[p]
	}
	return "Phase(?)"
}

// Key is a key the student pressed that the engine cares about.
type Key int

const (
	KeyEnter Key = iota + 1 // finish and book
	KeyEsc                  // cancel a session with no money
	KeyMore                 // any other key in a session: "I need more time"
)

func (k Key) String() string {
	switch k {
	case KeyEnter:
		return "enter"
	case KeyEsc:
		return "esc"
	case KeyMore:
		return "more"
	}
	return "Key(?)"
}

// User is a MyQ user as the kiosk knows it.
type User struct {
	ID       int64
	Username string
	FullName string
	Balance  *int64 // minor units; nil when MyQ did not say
}

// Receipt is what a finished session leaves the student with.
type Receipt struct {
	Reference  string // "<kiosk id>/<session id>": in the payment description and the QR code
	Amount     int64  // minor units
	At         time.Time
	NewBalance *int64 // after commit, when known
	// BalanceAbout: NewBalance is the balance before plus the amount, and
	// the commit came late (booked from the queue), so it may be off.
	BalanceAbout bool
	// Vouchers added in the session, each its own payment (not in Amount).
	Vouchers []VoucherLine
}

// QueueStatus is the booking queue as the screen and the monitor see it.
type QueueStatus struct {
	Pending        int       // finished sessions not yet committed (needs attention included)
	OldestPending  time.Time // zero when none
	NeedsAttention int
	LastError      string
	Online         bool // the last MyQ request got an answer
}

// State is everything the screen renders. It is a value: the engine hands
// out copies, the UI never changes it.
type State struct {
	Phase Phase
	Now   time.Time // the engine's clock when this state was made
	Seq   uint64    // grows with every change, so views can skip repaints

	SessionID string
	User      *User  // nil while unknown (offline session on the card alone)
	Card      string // masked card number (devices.MaskCard)
	// Inactive (PhaseNotRegistered only): the card is known to MyQ, its
	// user's account is not active.
	Inactive bool
	// Offline: MyQ could not be asked at card read; the money is taken and
	// the credit will follow when MyQ answers.
	Offline bool

	Total      int64 // minor units in this session
	MinTopup   int64
	MaxTopup   int64
	BelowMin   bool // Total > 0 but below MinTopup: Enter waits for more
	MaxReached bool // acceptors inhibited: no more money fits
	// FinishAt is when the session books itself (idle_finish after the last
	// credit), zero when no countdown runs. CloseAt is when a session with no
	// money closes (card_timeout), zero otherwise.
	FinishAt time.Time
	CloseAt  time.Time

	Receipt *Receipt // PhaseCredited and PhaseSavedOffline
	// Unclaimed is money taken while no session was open (pulse acceptors
	// cannot refuse coins), waiting for a card to claim it.
	Unclaimed int64

	OutOfService string // plain words, PhaseOutOfService only

	Currency string
	Accepted []int64 // the coin and note values the kiosk takes, ascending

	Devices map[string]devices.StatusChange // latest status per device name
	Queue   QueueStatus

	// Cashboxes is each acceptor's cash-box fill since the last cash-up.
	Cashboxes []CashboxFill
	// NotesRefused / CoinsRefused: every note validator (coin acceptor) is
	// refusing money because its cash box is near full; the screen says
	// which kind of cash is still taken.
	NotesRefused bool
	CoinsRefused bool
	// Unrecognised counts cash taken but not valued (two coins merged, a
	// pulse train cut short) since the kiosk was last idle; the student is
	// told at once and on the receipt screen.
	Unrecognised int
	// Notice answers a key or card the engine refused or ignored, until
	// NoticeUntil (PhaseSession; on PhaseIdle only NoticeVoucherNeedsCard).
	Notice      Notice
	NoticeUntil time.Time
	// MessageUntil is when the not-registered or receipt screen gives way
	// to the idle screen, zero on other screens.
	MessageUntil time.Time
	// Voucher is the voucher part of a session screen; nil when vouchers
	// are off or no session is open.
	Voucher *VoucherView
	// CardPausedUntil is when the card reader, paused after a run of
	// unregistered cards, takes cards again; zero when not paused.
	CardPausedUntil time.Time
}
