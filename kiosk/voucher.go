package kiosk

// Vouchers in a session: the rules of issue 17. A code (scanned, typed, or
// from a keyboard-wedge scanner) is journaled as seen (masked) before MyQ is
// asked; MyQ's answer is offered to the student ("Voucher worth €5.00: Enter
// to add it, Esc to cancel"); Enter is journaled as confirmed before the
// commit is asked; Esc or walking away closes it. Only one voucher at a time;
// coins may go on meanwhile. Refused codes count towards a lockout that ends
// the session and refuses vouchers for a pause that doubles each time, so
// codes cannot be guessed at the kiosk. Vouchers are never taken offline.

import (
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/printroom/voucherkiosk/kiosk/journal"
)

// Defaults of VoucherRules.
const (
	DefaultVoucherMaxInvalid = 5
	DefaultVoucherPause      = time.Minute
	MaxVoucherPause          = time.Hour
	MaxVoucherCode           = 64
)

// VoucherRules configures vouchers in the engine.
type VoucherRules struct {
	Enabled bool
	// Pattern: which strings are codes (nil: 4 to 64 printable characters).
	Pattern *regexp.Regexp
	// MaxInvalid refused codes in a row end the session and lock vouchers.
	MaxInvalid int
	// Pause is the first lockout; each next one doubles, up to an hour.
	Pause time.Duration
}

// VoucherStep is where the current voucher is, for the screen.
type VoucherStep int

const (
	VoucherIdle     VoucherStep = iota // "Scan a voucher or type its code (V)"
	VoucherAsking                      // MyQ is checking the code
	VoucherOffer                       // "Voucher worth €5.00: Enter to add it, Esc to cancel"
	VoucherAdding                      // confirmed; commit asked
	VoucherAdded                       // committed (or owed: Pending)
	VoucherRejected                    // refused: Reason and MyQ's text
	VoucherNoServer                    // "vouchers need the print server: try again later"
	VoucherLocked                      // too many invalid codes: LockedUntil
	VoucherBroken                      // MyQ refused the kiosk (set-up): staff must act
)

var voucherStepNames = [...]string{"idle", "asking", "offer", "adding", "added", "rejected", "no server", "locked", "broken"}

func (s VoucherStep) String() string {
	if s >= 0 && int(s) < len(voucherStepNames) {
		return voucherStepNames[s]
	}
	return "VoucherStep(" + strconv.Itoa(int(s)) + ")"
}

// VoucherReason says why a code was rejected.
type VoucherReason int

const (
	VoucherInvalid VoucherReason = iota // unknown or expired: MyQ's text says which
	VoucherUsed
	VoucherNotACode // the scanned text does not look like a code
)

// VoucherView is the voucher part of a session screen.
type VoucherView struct {
	Step        VoucherStep
	Amount      int64 // the offer, or the voucher just added
	Pending     bool  // VoucherAdded: MyQ has not confirmed the commit yet
	Reason      VoucherReason
	MyQText     string    // MyQ's own words, cleaned
	LockedUntil time.Time // VoucherLocked
	Credited    int64     // vouchers added in this session
	Count       int
	// Until is when an offer left alone is cancelled (VoucherOffer only).
	Until time.Time
}

// VoucherLine is one voucher on a receipt.
type VoucherLine struct {
	Reference string
	Masked    string
	Amount    int64
	Pending   bool
}

// Events and commands of vouchers.
type (
	// VoucherCode is a code read by a scanner or typed. Source: "scanner",
	// "keyboard" (wedge) or "keypad" (V and typing).
	VoucherCode struct {
		Code   string
		Source string
	}
	// VoucherResult answers RedeemVoucher and CommitVoucher (and reports
	// vouchers resolved later).
	VoucherResult struct {
		Reference string
		Outcome   VoucherOutcome
		PaymentID string
		Amount    int64
		Message   string // MyQ's words, cleaned
		Used      bool
	}
	// RedeemVoucher asks MyQ to check the code and create its payment.
	RedeemVoucher struct {
		SessionID string
		Reference string
		User      User
		Code      string // whole: never log it
	}
	// CommitVoucher commits a confirmed voucher.
	CommitVoucher struct{ Reference string }
	// CancelVoucher rolls back a voucher the student cancelled.
	CancelVoucher struct{ Reference, PaymentID string }
)

func (RedeemVoucher) command() {}
func (CommitVoucher) command() {}
func (CancelVoucher) command() {}

// VoucherOutcome mirrors booking's outcomes (kiosk does not import booking).
type VoucherOutcome int

const (
	VoucherOutcomeOffered VoucherOutcome = iota + 1
	VoucherOutcomeRefused
	VoucherOutcomeOffline
	VoucherOutcomeFailed
	VoucherOutcomeCommitted
	VoucherOutcomeCommitPending
	VoucherOutcomeClosed
)

// VoucherService carries out the voucher commands (booking.Vouchers through
// an adapter); answers come back through Runner.Post(VoucherResult).
type VoucherService interface {
	Redeem(c RedeemVoucher)
	Commit(ref string)
	Cancel(ref, paymentID string)
}

type voucherState struct {
	sessID      string
	n           int
	step        VoucherStep
	ref         string
	masked      string
	paymentID   string
	amount      int64
	pending     bool
	reason      VoucherReason
	text        string
	since       time.Time // when step began: offers and messages time out
	lines       []VoucherLine
	invalid     int // refused codes in a row (kiosk-wide)
	lockouts    int
	lockedUntil time.Time
}

func (r VoucherRules) withDefaults() VoucherRules {
	if r.MaxInvalid <= 0 {
		r.MaxInvalid = DefaultVoucherMaxInvalid
	}
	if r.Pause <= 0 {
		r.Pause = DefaultVoucherPause
	}
	return r
}

// looksLikeCode applies the pattern (or the default shape).
func (r VoucherRules) looksLikeCode(c string) bool {
	if c == "" || len(c) > MaxVoucherCode || !utf8.ValidString(c) {
		return false
	}
	for _, ch := range c {
		if ch < 0x21 || ch == 0x7f {
			return false
		}
	}
	if r.Pattern != nil {
		return r.Pattern.MatchString(c)
	}
	return utf8.RuneCountInString(c) >= 4
}

// voucherBusy: a voucher is between the scan and MyQ's final word on the
// student's choice; the session neither finishes nor times out under it.
func (e *Engine) voucherBusy() bool {
	v := &e.v
	return e.sess != nil && v.sessID == e.sess.id && (v.step == VoucherAsking || v.step == VoucherOffer || v.step == VoucherAdding)
}

func (e *Engine) voucherSession() *voucherState {
	if e.sess == nil || e.phase != PhaseSession {
		return nil
	}
	v := &e.v
	if v.sessID != e.sess.id {
		invalid, lockouts, until := v.invalid, v.lockouts, v.lockedUntil
		*v = voucherState{sessID: e.sess.id, invalid: invalid, lockouts: lockouts, lockedUntil: until}
	}
	return v
}

func (e *Engine) setVoucherStep(st VoucherStep) {
	e.v.step, e.v.since = st, e.now
	if e.sess != nil {
		e.sess.activity = e.now // card_timeout counts from the last voucher step
	}
}

func (e *Engine) onVoucherCode(c VoucherCode) []Command {
	rules := e.cfg.Voucher
	if rules.Enabled && !e.shutdown && e.displayPhase() == PhaseIdle {
		e.notify(NoticeVoucherNeedsCard) // never silent: "tap your card first"
		return nil
	}
	if !rules.Enabled || e.shutdown || e.displayPhase() != PhaseSession {
		return nil
	}
	v := e.voucherSession()
	if v == nil || e.voucherBusy() {
		return nil // one voucher at a time
	}
	code := strings.TrimSpace(c.Code)
	switch {
	case e.now.Before(v.lockedUntil):
		e.setVoucherStep(VoucherLocked)
		return nil
	case e.sess.offline || e.sess.user == nil:
		// Only MyQ can check a code: never take a voucher offline.
		e.setVoucherStep(VoucherNoServer)
		return nil
	case !rules.looksLikeCode(code):
		v.reason, v.text = VoucherNotACode, ""
		return e.voucherRefused()
	}
	v.n++
	ref := e.reference(e.sess.id) + "/v" + strconv.Itoa(v.n)
	seen := journal.VoucherSeen{Reference: ref, UserID: e.sess.user.ID, Username: e.sess.user.Username,
		Masked: journal.MaskVoucher(code), Source: c.Source}
	if _, err := e.append(journal.New(journal.KindVoucherSeen, e.sess.id, e.now, seen)); err != nil {
		return nil
	}
	v.ref, v.masked, v.paymentID, v.amount, v.pending, v.text = ref, seen.Masked, "", 0, false, ""
	e.setVoucherStep(VoucherAsking)
	return []Command{RedeemVoucher{SessionID: e.sess.id, Reference: ref, User: *cloneUser(e.sess.user), Code: code}}
}

// voucherRefused counts a refused code; the MaxInvalid-th in a row ends the
// session and locks vouchers.
func (e *Engine) voucherRefused() []Command {
	v := &e.v
	v.invalid++
	e.setVoucherStep(VoucherRejected)
	rules := e.cfg.Voucher
	if v.invalid < rules.MaxInvalid {
		return nil
	}
	pause := rules.Pause << min(v.lockouts, 16)
	if pause > MaxVoucherPause || pause <= 0 {
		pause = MaxVoucherPause
	}
	v.lockouts++
	v.invalid = 0
	v.lockedUntil = e.now.Add(pause)
	e.log.Warn("engine: too many invalid voucher codes: vouchers locked", "session", e.sess.id, "pause", pause)
	s := e.sess
	if s.total > 0 || len(e.sessionNotes()) > 0 {
		if len(e.sessionNotes()) > 0 {
			s.finishReq = true
			return nil
		}
		return e.finish(s, ReasonEnter)
	}
	e.closeEmpty(s)
	return nil
}

func (e *Engine) onVoucherResult(r VoucherResult) []Command {
	v := &e.v
	current := e.sess != nil && v.sessID == e.sess.id && r.Reference == v.ref && e.phase == PhaseSession
	if !current {
		if r.Outcome == VoucherOutcomeCommitted {
			e.log.Info("engine: voucher committed after its screen", "reference", r.Reference, "amount", r.Amount)
			for i := range v.lines {
				if v.lines[i].Reference == r.Reference {
					v.lines[i].Pending = false
				}
			}
		}
		if r.Outcome == VoucherOutcomeOffered {
			// Offered to nobody (the session moved on): close and roll back.
			// The journal refuses the close if it was settled meanwhile.
			closed := journal.VoucherClosed{Reference: r.Reference, Reason: "abandoned"}
			if _, err := e.j.Append(journal.New(journal.KindVoucherClosed, "", e.now, closed)); err != nil {
				e.log.Info("engine: late voucher offer not closed here", "reference", r.Reference, "err", err)
			}
			return []Command{CancelVoucher{Reference: r.Reference, PaymentID: r.PaymentID}}
		}
		return nil
	}
	switch r.Outcome {
	case VoucherOutcomeOffered:
		if v.step == VoucherOffer && v.paymentID == r.PaymentID {
			return nil // already offered
		}
		if v.step != VoucherAsking {
			// Cancelled (Esc) while MyQ was asked: the journal closed it,
			// and MyQ's payment holds the code until it is rolled back.
			return []Command{CancelVoucher{Reference: r.Reference, PaymentID: r.PaymentID}}
		}
		v.paymentID, v.amount = r.PaymentID, r.Amount
		e.setVoucherStep(VoucherOffer)
	case VoucherOutcomeRefused:
		if v.step == VoucherAdding {
			// MyQ refused the commit for good: no money moved.
			v.reason, v.text = VoucherInvalid, r.Message
			e.setVoucherStep(VoucherRejected)
			return nil
		}
		v.reason, v.text = VoucherInvalid, r.Message
		if r.Used {
			v.reason = VoucherUsed
		}
		return e.voucherRefused()
	case VoucherOutcomeOffline:
		e.setVoucherStep(VoucherNoServer)
	case VoucherOutcomeFailed:
		v.text = r.Message
		e.setVoucherStep(VoucherBroken)
	case VoucherOutcomeCommitted, VoucherOutcomeCommitPending:
		if v.step != VoucherAdding {
			if r.Outcome == VoucherOutcomeCommitted { // an owed commit confirmed later
				v.pending = false
				for i := range v.lines {
					if v.lines[i].Reference == r.Reference {
						v.lines[i].Pending = false
					}
				}
			}
			return nil
		}
		amt := r.Amount
		if amt <= 0 {
			amt = v.amount
		}
		v.amount, v.pending, v.invalid = amt, r.Outcome == VoucherOutcomeCommitPending, 0
		v.lines = append(v.lines, VoucherLine{Reference: v.ref, Masked: v.masked, Amount: amt, Pending: v.pending})
		e.voucherBalance(amt, v.pending)
		e.setVoucherStep(VoucherAdded)
	}
	return nil
}

// voucherKey handles Enter and Esc while a voucher is on screen; ok is
// false when the key is the session's.
func (e *Engine) voucherKey(k Key) (cmds []Command, ok bool) {
	if e.phase != PhaseSession || e.sess == nil || e.v.sessID != e.sess.id {
		return nil, false
	}
	v := &e.v
	switch v.step {
	case VoucherOffer:
		if k == KeyEnter {
			if _, err := e.append(journal.New(journal.KindVoucherConfirmed, e.sess.id, e.now, journal.VoucherRef{Reference: v.ref})); err != nil {
				return nil, true
			}
			e.setVoucherStep(VoucherAdding)
			return []Command{CommitVoucher{Reference: v.ref}}, true
		}
		return e.voucherCancel(), true
	case VoucherAsking:
		if k == KeyEsc {
			return e.voucherCancel(), true
		}
		return nil, true
	case VoucherAdding:
		return nil, true // the commit is owed: nothing to cancel
	case VoucherAdded, VoucherRejected, VoucherNoServer, VoucherLocked, VoucherBroken:
		// Any key hides the message; Enter also does what it does on the
		// session screen, so one Enter finishes, and so does Esc after a
		// voucher was added. Esc on a refusal only hides it: the student
		// may want to try another code.
		added := v.step == VoucherAdded
		e.setVoucherStep(VoucherIdle)
		if k == KeyMore || (k == KeyEsc && !added) {
			return nil, true
		}
	}
	// A session with vouchers and no cash ends with its receipt, on Enter
	// or Esc (the vouchers are on the account: nothing to cancel).
	if (k == KeyEnter || k == KeyEsc) && e.voucherOnly(e.sess) {
		return e.voucherOnlyEnd(), true
	}
	return nil, false
}

// voucherOnly: the session's money is all vouchers, already committed each
// on its own; it ends on its receipt, never silently.
func (e *Engine) voucherOnly(s *session) bool {
	return s != nil && s.total == 0 && len(e.voucherLines(s)) > 0 && len(e.sessionNotes()) == 0
}

// voucherHeld: the session has a voucher added or on its way, so it is
// the student's as much as one with coins (another card does not replace it).
func (e *Engine) voucherHeld(s *session) bool {
	return len(e.voucherLines(s)) > 0 || (s == e.sess && e.voucherBusy())
}

// closeEmpty ends a session with no cash: on the vouchers' receipt when it
// has some, otherwise back to the idle screen.
func (e *Engine) closeEmpty(s *session) {
	if e.voucherOnly(s) {
		e.voucherOnlyEnd()
		return
	}
	if e.cancel(s) == nil {
		e.toIdle()
	}
}

// voucherBalance keeps the greeting's balance true after a voucher: MyQ's
// balance at the lookup plus what was committed since, or none while a
// commit is owed (the kiosk cannot know it then).
func (e *Engine) voucherBalance(amount int64, pending bool) {
	u := e.sess.user
	if u == nil || u.Balance == nil {
		return
	}
	if pending {
		u.Balance = nil
		return
	}
	nb := *u.Balance + amount
	u.Balance = &nb // a new value: State copies may share the old one
}

func (e *Engine) voucherCancel() []Command {
	v := &e.v
	closed := journal.VoucherClosed{Reference: v.ref, Reason: "cancelled"}
	if _, err := e.append(journal.New(journal.KindVoucherClosed, e.sess.id, e.now, closed)); err != nil {
		return nil
	}
	ref, pid := v.ref, v.paymentID
	e.log.Info("engine: voucher cancelled", "reference", ref, "step", v.step)
	e.setVoucherStep(VoucherIdle)
	return []Command{CancelVoucher{Reference: ref, PaymentID: pid}}
}

// voucherOnlyEnd closes a session whose money is all vouchers (already
// committed each on its own) and shows its receipt.
func (e *Engine) voucherOnlyEnd() []Command {
	s := e.sess
	if e.cancel(s) != nil {
		return nil
	}
	lines := e.v.lines
	e.sess = nil
	e.finished = s
	e.bookingID = s.id
	e.receipt = &Receipt{Reference: e.reference(s.id), At: e.now, Vouchers: lines}
	if s.user != nil && s.user.Balance != nil {
		// The greeting's balance already counts the committed vouchers
		// (and is gone when one is still pending).
		e.receipt.NewBalance = cloneInt(s.user.Balance)
	}
	e.phase = PhaseCredited
	e.msgUntil = e.now.Add(e.cfg.MessageFor)
	return nil
}

// Added is what the session put on the account: the cash and the vouchers.
func (r *Receipt) Added() int64 {
	n := r.Amount
	for _, l := range r.Vouchers {
		n += l.Amount
	}
	return n
}

// voucherLines is the receipt's voucher part for a finishing session.
func (e *Engine) voucherLines(s *session) []VoucherLine {
	if e.v.sessID != s.id {
		return nil
	}
	return e.v.lines
}

// voucherDeadline: an offer or a message left alone goes away after
// MessageFor (an offer is then cancelled: the student never confirmed).
func (e *Engine) voucherDeadline() time.Time {
	if e.phase != PhaseSession || e.sess == nil || e.v.sessID != e.sess.id {
		return time.Time{}
	}
	switch e.v.step {
	case VoucherOffer, VoucherAdded, VoucherRejected, VoucherNoServer, VoucherLocked, VoucherBroken:
		return e.v.since.Add(e.cfg.MessageFor)
	}
	return time.Time{}
}

func (e *Engine) voucherDue() []Command {
	at := e.voucherDeadline()
	if at.IsZero() || e.now.Before(at) {
		return nil
	}
	if e.v.step == VoucherOffer {
		return e.voucherCancel()
	}
	// Not the student's doing: the session's countdown runs on.
	e.v.step, e.v.since = VoucherIdle, e.now
	return nil
}

// voucherView is the screen's voucher part (nil: vouchers off or no
// session). On the idle screen it is there only while vouchers are locked,
// so a student whose session the lockout ended learns why.
func (e *Engine) voucherView() *VoucherView {
	if e.cfg.Voucher.Enabled && e.displayPhase() == PhaseIdle && e.now.Before(e.v.lockedUntil) {
		return &VoucherView{Step: VoucherLocked, LockedUntil: e.v.lockedUntil}
	}
	if !e.cfg.Voucher.Enabled || e.phase != PhaseSession || e.sess == nil {
		return nil
	}
	vv := &VoucherView{}
	v := &e.v
	if v.sessID == e.sess.id {
		vv.Step, vv.Amount, vv.Pending, vv.Reason, vv.MyQText = v.step, v.amount, v.pending, v.reason, v.text
		if v.step == VoucherOffer {
			vv.Until = e.voucherDeadline()
		}
		for _, l := range v.lines {
			vv.Credited += l.Amount
			vv.Count++
		}
	}
	if vv.Step == VoucherLocked || e.now.Before(v.lockedUntil) {
		vv.LockedUntil = v.lockedUntil
	}
	return vv
}

func cloneVoucherView(v *VoucherView) *VoucherView {
	if v == nil {
		return nil
	}
	c := *v
	return &c
}

// execVoucher hands a voucher command to the service; without one a code
// is answered offline (nothing taken).
func (r *Runner) execVoucher(c Command) {
	vs := r.cfg.Vouchers
	switch c := c.(type) {
	case RedeemVoucher:
		if vs == nil {
			r.Post(VoucherResult{Reference: c.Reference, Outcome: VoucherOutcomeOffline})
			return
		}
		vs.Redeem(c)
	case CommitVoucher:
		if vs != nil {
			vs.Commit(c.Reference)
		}
	case CancelVoucher:
		if vs != nil {
			vs.Cancel(c.Reference, c.PaymentID)
		}
	}
}
