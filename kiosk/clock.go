package kiosk

import (
	"sync"
	"time"
)

// Clock is the runner's time: the real one in the daemon, a ManualClock in
// tests so the runner's deadlines are deterministic.
type Clock interface {
	Now() time.Time
	// NewTimer fires once, d from now, on its channel (capacity 1).
	NewTimer(d time.Duration) Timer
}

// Timer is the part of time.Timer the runner uses.
type Timer interface {
	C() <-chan time.Time
	// Stop prevents the timer firing; a value already on C may remain.
	Stop() bool
	// Reset makes it fire d from now (stopping it first).
	Reset(d time.Duration)
}

// RealClock is the system clock.
type RealClock struct{}

func (RealClock) Now() time.Time { return time.Now() }

func (RealClock) NewTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }

type realTimer struct{ t *time.Timer }

func (r realTimer) C() <-chan time.Time   { return r.t.C }
func (r realTimer) Stop() bool            { return r.t.Stop() }
func (r realTimer) Reset(d time.Duration) { r.t.Reset(d) }

// ManualClock only moves when told: Advance fires every timer that falls due.
type ManualClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*manualTimer
}

var (
	_ Clock = RealClock{}
	_ Clock = (*ManualClock)(nil)
)

// NewManualClock starts at t.
func NewManualClock(t time.Time) *ManualClock { return &ManualClock{now: t} }

func (m *ManualClock) Now() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.now
}

// Advance moves the clock on by d and fires the timers now due.
func (m *ManualClock) Advance(d time.Duration) {
	m.mu.Lock()
	m.now = m.now.Add(d)
	now := m.now
	for _, t := range m.timers {
		if t.armed && !now.Before(t.at) {
			t.armed = false
			select {
			case t.c <- now:
			default:
			}
		}
	}
	m.mu.Unlock()
}

// Armed counts timers waiting to fire, so a test can wait until the runner
// has set its next deadline.
func (m *ManualClock) Armed() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, t := range m.timers {
		if t.armed {
			n++
		}
	}
	return n
}

func (m *ManualClock) NewTimer(d time.Duration) Timer {
	t := &manualTimer{m: m, c: make(chan time.Time, 1)}
	m.mu.Lock()
	m.timers = append(m.timers, t)
	m.mu.Unlock()
	t.Reset(d)
	return t
}

type manualTimer struct {
	m     *ManualClock
	c     chan time.Time
	at    time.Time
	armed bool
}

func (t *manualTimer) C() <-chan time.Time { return t.c }

func (t *manualTimer) Stop() bool {
	t.m.mu.Lock()
	defer t.m.mu.Unlock()
	was := t.armed
	t.armed = false
	return was
}

func (t *manualTimer) Reset(d time.Duration) {
	t.m.mu.Lock()
	defer t.m.mu.Unlock()
	t.at = t.m.now.Add(d)
	t.armed = true
	if d <= 0 {
		t.armed = false
		select {
		case t.c <- t.m.now:
		default:
		}
	}
}
