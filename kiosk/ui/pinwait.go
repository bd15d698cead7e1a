package ui

import (
	"fmt"
	"time"
)

// PINLock is the technician PIN's lockout as the screen sees it
// (pinlock.Lock). Wait and Left are cheap (a mutex and the clock): the
// event loop calls them while drawing. Failed and Succeeded write a file:
// the UI calls them off the event loop.
type PINLock interface {
	Wait() time.Duration
	Left() int
	Failed() (time.Duration, error)
	Succeeded() error
}

// pinWait is how long PINs are still refused (0: none, or no lockout).
func (u *UI) pinWait() time.Duration {
	if u.opts.PINLock == nil {
		return 0
	}
	return u.opts.PINLock.Wait()
}

// FormatWait gives a wait as the screen shows it, rounded up to the second:
// "45 s", "2 min 05 s", "1 h 00 min".
func FormatWait(d time.Duration) string {
	s := int64((d + time.Second - 1) / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%d s", s)
	case s < 3600:
		return fmt.Sprintf("%d min %02d s", s/60, s%60)
	default:
		return fmt.Sprintf("%d h %02d min", s/3600, (s%3600+59)/60)
	}
}
