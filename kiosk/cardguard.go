package kiosk

import (
	"time"

	"github.com/printroom/voucherkiosk/devices"
)

// cardGuard pauses the card reader after a run of unregistered cards: a card
// emulator walking through numbers would otherwise read names and balances
// off the screen (700 numbers in 31 s). It is pure: the engine hands it its
// clock.
//
// Limit unregistered cards within Window start a pause of First; each
// further pause doubles, up to Max. After Max with no unregistered card (the
// pause itself not counted) the pauses start small again.
type cardGuard struct {
	rule    cardGuardRule
	unknown []time.Time // unregistered cards within the window, oldest first
	until   time.Time   // cards are ignored before this
	pauses  int         // pauses in a row
	last    time.Time   // the last unregistered card
}

type cardGuardRule struct {
	Limit  int
	Window time.Duration
	First  time.Duration
	Max    time.Duration
}

var defaultCardGuard = cardGuardRule{Limit: 5, Window: time.Minute, First: 30 * time.Second, Max: 15 * time.Minute}

// paused reports whether a card read at now is ignored.
func (g *cardGuard) paused(now time.Time) bool { return now.Before(g.until) }

// unregistered records an unregistered card at now and returns the pause it
// starts (0: none).
func (g *cardGuard) unregistered(now time.Time) time.Duration {
	r := g.rule
	quietSince := g.last
	if g.until.After(quietSince) {
		quietSince = g.until
	}
	if !g.last.IsZero() && now.Sub(quietSince) >= r.Max {
		g.pauses = 0
	}
	g.last = now
	keep := g.unknown[:0]
	for _, t := range g.unknown {
		if now.Sub(t) < r.Window {
			keep = append(keep, t)
		}
	}
	g.unknown = append(keep, now)
	if len(g.unknown) < r.Limit {
		return 0
	}
	pause := r.Max
	if g.pauses < 30 && r.First<<g.pauses < r.Max {
		pause = r.First << g.pauses
	}
	g.pauses++
	g.unknown = g.unknown[:0]
	g.until = now.Add(pause)
	return pause
}

// cardPaused reports whether the card read c is ignored because the reader
// is paused; the card is neither looked up nor shown.
func (e *Engine) cardPaused(c devices.CardRead) bool {
	if e.guard.rule == (cardGuardRule{}) {
		e.guard.rule = defaultCardGuard
	}
	if !e.guard.paused(e.now) {
		return false
	}
	e.log.Debug("engine: card ignored: reader paused after unregistered cards", "card", devices.MaskCard(c.Number), "until", e.guard.until)
	if e.cfg.OnCardIgnored != nil {
		e.cfg.OnCardIgnored()
	}
	return true
}

// cardUnregistered tells the guard MyQ knows no user for the card read.
func (e *Engine) cardUnregistered() {
	if e.guard.rule == (cardGuardRule{}) {
		e.guard.rule = defaultCardGuard
	}
	pause := e.guard.unregistered(e.now)
	if pause == 0 {
		return
	}
	e.log.Warn("engine: card reader paused: too many unregistered cards in a row (someone may be trying card numbers)",
		"cards", e.guard.rule.Limit, "within", e.guard.rule.Window, "pause", pause)
	if e.cfg.OnCardPause != nil {
		e.cfg.OnCardPause(pause)
	}
}
