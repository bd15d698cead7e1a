package ui

import (
	"time"

	"github.com/printroom/voucherkiosk/devices"
	"github.com/printroom/voucherkiosk/kiosk"
)

// warnBefore is when a session's countdown turns into a warning: colour,
// a bell, and "Need more time? Press any key".
const warnBefore = 10 * time.Second

// feedback rings the terminal bell for what the student just did: one bell
// for money taken, two for a coin or note refused or not valued. Terminals
// without a bell stay silent (tcell's Beep is a no-op there). On the event
// loop.
func (u *UI) feedback(prev, st kiosk.State) {
	switch {
	case st.Unrecognised > prev.Unrecognised || rejected(prev, st):
		u.bell(2)
	case st.Phase == kiosk.PhaseSession && st.SessionID == prev.SessionID && st.Total > prev.Total:
		u.bell(1)
	}
}

// rejected reports whether an acceptor refused a coin or note since prev.
func rejected(prev, st kiosk.State) bool {
	for name, d := range st.Devices {
		if d.Status != devices.StatusCoinRejected && d.Status != devices.StatusNoteRejected {
			continue
		}
		if p, ok := prev.Devices[name]; !ok || p.Status != d.Status || !p.At.Equal(d.At) {
			return true
		}
	}
	return false
}

// bell queues n bells for the next draw, which has the screen.
func (u *UI) bell(n int) { u.bells += n }

// warning returns the session deadline in its last warnBefore, if any.
func (u *UI) warning() (time.Time, bool) {
	if !u.have || u.st.Phase != kiosk.PhaseSession {
		return time.Time{}, false
	}
	for _, at := range []time.Time{u.st.FinishAt, u.st.CloseAt} {
		if at.IsZero() {
			continue
		}
		left := at.Sub(u.st.Now) - u.now().Sub(u.recvAt)
		return at, left <= warnBefore
	}
	return time.Time{}, false
}
