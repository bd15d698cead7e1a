package kiosk

import "time"

// Notice is a short message the engine has for the student about something
// it just refused or ignored, so no key press and no card goes unanswered.
type Notice int

const (
	NoticeNone Notice = iota
	// NoticeEscRefused: Esc with money in; money is never cancelled, only
	// added to the account.
	NoticeEscRefused
	// NoticeSecondCard: another card was tapped during a session with
	// money; the session keeps its card.
	NoticeSecondCard
	// NoticeVoucherNeedsCard: a voucher was scanned on the idle screen; a
	// voucher is credited to the card's account, so the card comes first.
	NoticeVoucherNeedsCard
)

func (n Notice) String() string {
	switch n {
	case NoticeNone:
		return "none"
	case NoticeEscRefused:
		return "esc refused"
	case NoticeSecondCard:
		return "second card ignored"
	case NoticeVoucherNeedsCard:
		return "voucher needs a card"
	}
	return "Notice(?)"
}

// NoticeFor is how long a Notice stays on State.
const NoticeFor = 6 * time.Second

// notices holds what the screen tells the student beyond the session rules.
type notices struct {
	notice Notice
	until  time.Time
	// unrecognised counts cash the acceptors took but could not value since
	// the kiosk was last idle: the student must hear of it at once.
	unrecognised int
	// myqDown is the newest news of MyQ: a card lookup that could not reach
	// it (the screen says offline before any booking fails), a lookup that
	// did, or the booking queue changing its mind.
	myqDown bool
	// queueKnown and queueOnline are the booking queue's last word, so a
	// stale "offline" it repeats with each status does not undo a lookup
	// that got through since.
	queueKnown, queueOnline bool
}

func (e *Engine) notify(n Notice) {
	e.nt.notice, e.nt.until = n, e.now.Add(NoticeFor)
}

// extendSession answers KeyMore: the student asked for more time, so the
// session's countdowns start again from now.
func (e *Engine) extendSession() {
	s := e.sess
	if e.phase != PhaseSession || s == nil {
		return
	}
	s.activity = e.now
	if s.total > 0 {
		s.lastMoney = e.now
	}
}

// lookupReached records whether a card lookup reached MyQ.
func (e *Engine) lookupReached(ok bool) { e.nt.myqDown = !ok }

// queueReached takes the booking queue's word on MyQ: "online" always
// counts; "offline" only when it is news (the queue says it again with
// every status until its next retry).
func (e *Engine) queueReached(online bool) {
	if online || !e.nt.queueKnown || e.nt.queueOnline {
		e.nt.myqDown = !online
	}
	e.nt.queueKnown, e.nt.queueOnline = true, online
}

// resetNotices is called when the kiosk goes idle after a session or message.
func (e *Engine) resetNotices() { e.nt.notice, e.nt.unrecognised = NoticeNone, 0 }

// fillNotices puts the notices on a state snapshot.
func (e *Engine) fillNotices(st *State) {
	st.Unrecognised = e.nt.unrecognised
	switch e.phase {
	case PhaseNotRegistered, PhaseCredited, PhaseSavedOffline:
		st.MessageUntil = e.msgUntil
	}
	if e.nt.queueKnown {
		st.Queue.Online = !e.nt.myqDown
	} else if e.nt.myqDown {
		st.Queue.Online = false
	}
	// The idle screen's one notice is for a voucher scanned before the
	// card; the session screen has the others.
	idleNotice := e.nt.notice == NoticeVoucherNeedsCard
	if e.nt.notice != NoticeNone && e.now.Before(e.nt.until) &&
		((e.phase == PhaseSession && !idleNotice) || (idleNotice && st.Phase == PhaseIdle)) {
		st.Notice, st.NoticeUntil = e.nt.notice, e.nt.until
	}
}
