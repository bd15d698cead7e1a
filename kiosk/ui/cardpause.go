package ui

import "github.com/gdamore/tcell/v2"

// cardPaused says, while the engine ignores the card reader after a run of
// unregistered cards, how long until it reads cards again.
func (u *UI) cardPaused(add func(tcell.Style, string), blank func()) {
	if s, ok := u.countdown(u.st.CardPausedUntil); ok && s > 0 {
		add(u.p.warn, u.t("card_paused", s))
		blank()
	}
}
