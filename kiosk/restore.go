package kiosk

import (
	"slices"
	"time"

	"github.com/printroom/voucherkiosk/kiosk/journal"
)

// Restore takes over what the journal's ledger says at start (DESIGN step
// 9), before the first event:
//   - an open session with money and no note in escrow is finished (reason
//     "restart") and booked; one with no money is cancelled;
//   - a session with a note in escrow waits for the validator to settle it:
//     the newest such session is resumed on screen, older ones are closed in
//     the background once their notes settle;
//   - unclaimed cash and pending notes are restored into memory.
//
// pendingNotes is the ledger's PendingNotes() (notes of every session, and
// sessionless ones). The returned commands book the finished sessions.
func (e *Engine) Restore(open []journal.OpenSession, unclaimedCash []journal.UnclaimedCash, pendingNotes []journal.NoteEscrow) []Command {
	for _, n := range pendingNotes {
		e.addRestoredNote(n)
	}
	for _, s := range open {
		for _, n := range s.PendingNotes {
			n.Session = s.ID
			e.addRestoredNote(n)
		}
	}
	for _, u := range unclaimedCash {
		// Inserted before this process started: how long ago cannot be
		// told (the journal's clock is not trusted), so no card may claim
		// it; it is reported for the cash-up.
		e.unclaimed = append(e.unclaimed, unclaimed{seq: u.Seq, amount: u.Credit.Amount, closed: true})
	}
	var resume *session
	for _, o := range open {
		// Timers count from this process's start, never from journal
		// times: the wall clock may have gone backwards across the restart
		// (a board with no real-time clock), which would freeze the session
		// until the clock caught up again. opened only orders sessions.
		s := &session{
			id: o.ID, card: o.Open.Card, offline: o.Open.Offline, opened: o.Opened,
			total: o.Total, lastMoney: e.now, activity: e.now,
		}
		switch {
		case o.Resolved != nil:
			s.user = &User{ID: o.Resolved.UserID, Username: o.Resolved.Username, FullName: o.Resolved.FullName}
		case o.Open.UserID > 0:
			s.user = &User{ID: o.Open.UserID, Username: o.Open.Username, FullName: o.Open.FullName}
		}
		hasNote := slices.ContainsFunc(e.notes, func(n pendingNote) bool { return n.Session == o.ID })
		// open is in journal order (OpenSessions sorts by the open's
		// Seq), so the last one with a note is the newest whatever the
		// clock said.
		if hasNote {
			if resume != nil {
				e.closing = append(e.closing, closing{s: resume, reason: ReasonRestart})
			}
			resume = s
			continue
		}
		e.closing = append(e.closing, closing{s: s, reason: ReasonRestart})
	}
	if resume != nil {
		e.sess = resume
		e.phase = PhaseSession
		e.lastIDs = append(e.lastIDs, resume.id)
	}
	cmds := e.due()
	cmds = append(cmds, e.acceptingCmd()...)
	e.snapshot()
	return cmds
}

func (e *Engine) addRestoredNote(n journal.NoteEscrow) {
	if slices.ContainsFunc(e.notes, func(p pendingNote) bool { return p.Device == n.Device && p.NoteID == n.NoteID }) {
		return
	}
	e.notes = append(e.notes, pendingNote{NoteEscrow: n, at: e.now})
}

// closeParked finishes or cancels the closing sessions whose notes have all
// settled. One the journal refuses stays for the next try.
func (e *Engine) closeParked() []Command {
	var cmds []Command
	keep := e.closing[:0]
	for _, c := range e.closing {
		if slices.ContainsFunc(e.notes, func(n pendingNote) bool { return n.Session == c.s.id }) {
			keep = append(keep, c)
			continue
		}
		if c.s.total > 0 {
			f := e.finish(c.s, c.reason)
			if len(f) == 0 {
				keep = append(keep, c)
				continue
			}
			cmds = append(cmds, f...)
		} else if e.cancel(c.s) != nil {
			keep = append(keep, c)
		}
	}
	e.closing = keep
	return cmds
}

// Shutdown is SIGTERM: acceptors inhibited, no new note or card taken, the
// session on screen finished (money, reason "shutdown") and booked, or
// cancelled (none). A session waiting for a stacked note stays open in the
// journal: the next start resumes it, so the note is credited to the right
// student rather than becoming unclaimed cash. Money that still arrives is
// journaled (into that session or as unclaimed cash).
func (e *Engine) Shutdown(now time.Time) []Command {
	if now.After(e.now) {
		e.now = now
	}
	e.shutdown = true
	var cmds []Command
	switch e.phase {
	case PhaseSession:
		s := e.sess
		switch {
		case len(e.sessionNotes()) > 0:
			e.log.Warn("engine: shutdown with a note in escrow: session left open for the next start",
				"session", s.id, "total", s.total)
		case s.total > 0:
			cmds = append(cmds, e.finish(s, ReasonShutdown)...)
		default:
			if e.cancel(s) == nil {
				e.toIdle()
			}
		}
	case PhaseLookingUp:
		e.toIdle()
	}
	if len(e.closing) > 0 && e.jErr == nil {
		cmds = append(cmds, e.closeParked()...)
	}
	e.accepting = true // force the command out even if already off
	cmds = append(cmds, e.acceptingCmd()...)
	e.snapshot()
	return cmds
}
