// Package ui owns the kiosk's full-screen terminal interface: it renders the
// session engine's State (tap your card, the running total in large digits,
// the countdown, receipts with a QR code, out of service) in English, Czech
// or German, forwards the student's Enter and Esc to the engine, and hides a
// PIN-protected technician menu (device status, queue, cash-up).
// See docs/ARCHITECTURE.md for its place among the packages.
//
// It is a view: every rule lives in the engine. The only decisions made here
// are which language to show and whether the technician typed the right PIN.
//
// Keys: Enter and Esc go to the engine; L on the idle screen cycles the
// languages; F10 opens the technician menu (PIN first); any other key during
// a session tells the engine the student needs more time. No key, Ctrl-C,
// Ctrl-Z, Ctrl-\ and Ctrl-D included, stops the kiosk: it stops only when
// Run's context ends (systemd stops the service; the demo's quit key is a
// footer key of the demo's own).
package ui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"

	"github.com/printroom/voucherkiosk/kiosk"
)

// Engine is what the UI needs from the session engine.
type Engine interface {
	// Key hands over a key the student pressed. The UI calls it off its
	// event loop, one key at a time, in order.
	Key(kiosk.Key)
	// Subscribe returns a channel of state snapshots and a function that
	// ends the subscription.
	Subscribe() (<-chan kiosk.State, func())
}

// FooterKey is an extra key shown on the footer line (the demo's simulated
// card and coins). Do runs on a goroutine owned by the UI.
type FooterKey struct {
	Key   tcell.Key // tcell.KeyRune for a letter, with Rune set
	Rune  rune
	Label string
	Do    func()
	// ShowOnly labels a key the UI handles itself (F10, Esc) so a demo's
	// footer can name it; Do must then be nil.
	ShowOnly bool
}

// Options configures a UI.
type Options struct {
	Screen     tcell.Screen // nil: the real terminal
	Engine     Engine
	Languages  []string // order the L key cycles; the first is the default
	Currency   string   // ISO code, e.g. "EUR"
	KioskID    string
	ReceiptKey []byte // signs the receipt codes (receipt.LoadOrCreateKey)
	// Technician and PINFile enable the technician menu (F10); without
	// both it stays closed.
	Technician Technician
	PINFile    string
	Footer     []FooterKey
	Log        *slog.Logger
	// HighContrast draws bold light text on black and solid warning bars
	// ([kiosk] high_contrast).
	HighContrast bool
	// PINLock, when set, refuses PINs during a lockout and counts wrong
	// ones (pinlock.Lock); OnPINFailure is told of each wrong PIN (the
	// metric).
	PINLock      PINLock
	OnPINFailure func()
	// Greeting is how much of a name to show: GreetingFull (also ""),
	// GreetingFirst or GreetingInitials. HideBalance keeps balances off.
	Greeting    string
	HideBalance bool
}

// Keys of the UI itself.
const (
	keyTechnician = tcell.KeyF10
	langRune      = 'l'
)

// Timings; variables so tests can shorten them.
const (
	defaultPINDelay    = 2 * time.Second
	defaultTechTimeout = 60 * time.Second
	maxPINTries        = 3
)

// UI is the kiosk screen.
type UI struct {
	opts Options
	p    palette
	log  *slog.Logger
	app  *tview.Application
	view *screenView

	// Set before Run; tests shorten or fake them.
	now         func() time.Time
	pinDelay    time.Duration
	techTimeout time.Duration
	tickEvery   time.Duration

	// mu guards the spawning of goroutines against Run's shutdown.
	mu      sync.Mutex
	running bool
	runCtx  context.Context
	wg      sync.WaitGroup
	ping    chan struct{} // the Ping in flight, nil when none
	ran     bool

	keys chan kiosk.Key

	// Everything below is touched only on the event loop.
	st     kiosk.State
	recvAt time.Time // u.now() when st arrived: the countdown runs from here
	have   bool      // a state has arrived
	lang   int
	rc     receiptCache
	tech   techState
	// warned is the deadline whose last-10-seconds bell has rung.
	warned time.Time
	bells  int // to ring at the next draw
	rung   int // bells rung so far (tests)
	vin    voucherInput
}

// New builds the UI. It does not touch the terminal until Run.
func New(o Options) (*UI, error) {
	if o.Engine == nil {
		return nil, errors.New("ui: no engine")
	}
	if len(o.Languages) == 0 {
		o.Languages = []string{"en"}
	}
	for _, l := range o.Languages {
		if _, ok := catalogs[l]; !ok {
			return nil, fmt.Errorf("ui: language %q: have en, cs, de", l)
		}
	}
	if o.Currency == "" {
		return nil, errors.New("ui: no currency")
	}
	if len(o.ReceiptKey) < 16 {
		return nil, errors.New("ui: receipt key missing or shorter than 16 bytes")
	}
	for _, f := range o.Footer {
		if f.ShowOnly {
			if f.Do != nil || f.Label == "" {
				return nil, fmt.Errorf("ui: footer label %q: a shown-only key has a label and no action", f.Label)
			}
			continue
		}
		if f.Do == nil || f.Label == "" {
			return nil, fmt.Errorf("ui: footer key %q: needs a label and an action", f.Label)
		}
		if f.Key == keyTechnician || f.Key == tcell.KeyEnter || f.Key == tcell.KeyEscape ||
			(f.Key == tcell.KeyRune && (f.Rune == langRune || f.Rune == 'L')) {
			return nil, fmt.Errorf("ui: footer key %q: %s is taken", f.Label, keyName(f.Key, f.Rune))
		}
	}
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	u := &UI{
		opts:        o,
		p:           newPalette(o.HighContrast),
		log:         o.Log,
		app:         tview.NewApplication(),
		now:         time.Now,
		pinDelay:    defaultPINDelay,
		techTimeout: defaultTechTimeout,
		tickEvery:   time.Second,
		keys:        make(chan kiosk.Key, 16),
	}
	u.view = &screenView{Box: tview.NewBox(), u: u}
	if o.Screen != nil {
		u.app.SetScreen(o.Screen)
	}
	u.app.SetRoot(u.view, true)
	u.app.SetInputCapture(func(ev *tcell.EventKey) *tcell.EventKey {
		u.handleKey(ev)
		return nil // nothing reaches tview: no Ctrl-C quit, no focus games
	})
	return u, nil
}

// Run shows the kiosk screen until ctx ends, then restores the terminal. It
// returns early only when the terminal fails.
func (u *UI) Run(ctx context.Context) error {
	u.mu.Lock()
	if u.ran {
		u.mu.Unlock()
		return errors.New("ui: Run called twice")
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	u.ran, u.running, u.runCtx = true, true, runCtx
	u.wg.Add(3)
	u.mu.Unlock()

	go u.pumpStates(runCtx)
	go u.pumpKeys(runCtx)
	go u.tick(runCtx)

	loopDone := make(chan error, 1)
	go func() { loopDone <- u.app.Run() }()

	select {
	case <-ctx.Done():
	case err := <-loopDone:
		// The terminal failed: goroutines blocked on the dead loop cannot
		// be waited for; the daemon exits on this error.
		u.mu.Lock()
		u.running = false
		u.mu.Unlock()
		cancel()
		return fmt.Errorf("ui: terminal: %w", err)
	}
	u.mu.Lock()
	u.running = false
	u.mu.Unlock()
	cancel()
	// The loop still runs while our goroutines finish their last updates.
	u.wg.Wait()
	u.app.Stop()
	if err := <-loopDone; err != nil {
		return fmt.Errorf("ui: terminal: %w", err)
	}
	return nil
}

// Ping succeeds when the event loop runs a queued function before ctx ends:
// the watchdog's proof that the screen is alive.
func (u *UI) Ping(ctx context.Context) error {
	u.mu.Lock()
	if !u.running {
		u.mu.Unlock()
		return errors.New("ui: ping: not running")
	}
	done := u.ping
	if done == nil {
		// One probe in flight at most, however often the watchdog asks.
		done = make(chan struct{})
		u.ping = done
		u.wg.Add(1)
		go func() {
			defer u.wg.Done()
			u.app.QueueUpdate(func() {})
			u.mu.Lock()
			u.ping = nil
			u.mu.Unlock()
			close(done)
		}()
	}
	u.mu.Unlock()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("ui: ping: event loop did not answer: %w", ctx.Err())
	}
}

// spawn runs f on a goroutine owned by the UI; Run waits for it. Called on
// the event loop.
func (u *UI) spawn(f func(ctx context.Context)) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if !u.running {
		return
	}
	ctx := u.runCtx
	u.wg.Add(1)
	go func() {
		defer u.wg.Done()
		f(ctx)
	}()
}

// update runs f on the event loop and redraws, from a UI goroutine.
func (u *UI) update(f func()) { u.app.QueueUpdateDraw(f) }

func (u *UI) pumpStates(ctx context.Context) {
	defer u.wg.Done()
	ch, unsubscribe := u.opts.Engine.Subscribe()
	defer unsubscribe()
	for {
		var st kiosk.State
		select {
		case <-ctx.Done():
			return
		case s, ok := <-ch:
			if !ok {
				u.log.Warn("ui: engine closed the state subscription")
				return
			}
			st = s
		}
		// Only the newest state matters: skip what piled up while drawing.
	drain:
		for {
			select {
			case s, ok := <-ch:
				if !ok {
					break drain
				}
				st = s
			default:
				break drain
			}
		}
		u.update(func() { u.apply(st) })
	}
}

func (u *UI) pumpKeys(ctx context.Context) {
	defer u.wg.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case k := <-u.keys:
			u.opts.Engine.Key(k)
		}
	}
}

// tick redraws every second for the countdown and closes an idle
// technician menu. It never decides anything about the session.
func (u *UI) tick(ctx context.Context) {
	defer u.wg.Done()
	t := time.NewTicker(u.tickEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			u.update(u.onTick)
		}
	}
}

func (u *UI) onTick() {
	if u.tech.mode != techClosed && u.now().Sub(u.tech.lastKey) >= u.techTimeout {
		u.closeTech()
	}
	if at, ok := u.warning(); ok && !at.Equal(u.warned) {
		u.warned = at
		u.bell(1)
	}
}

// apply takes a new engine state. On the event loop.
func (u *UI) apply(st kiosk.State) {
	if u.have && st.Seq != 0 && st.Seq < u.st.Seq {
		return // an older snapshot overtaken by a newer one
	}
	if u.have && u.st.Phase != kiosk.PhaseIdle && st.Phase == kiosk.PhaseIdle {
		u.lang = 0 // the next student starts in the default language
	}
	prev, had := u.st, u.have
	u.st, u.have, u.recvAt = st, true, u.now()
	if had {
		u.feedback(prev, st)
	}
}

func (u *UI) langCode() string { return u.opts.Languages[u.lang] }

func (u *UI) sendKey(k kiosk.Key) {
	select {
	case u.keys <- k:
	default:
		// The engine is not taking keys; a student hammering Enter loses
		// nothing by a dropped press.
		u.log.Warn("ui: engine busy, key dropped", "key", k)
	}
}

// handleKey dispatches every key. On the event loop.
func (u *UI) handleKey(ev *tcell.EventKey) {
	if u.tech.mode != techClosed {
		u.techKey(ev)
		return
	}
	if u.voucherKey(ev) {
		return
	}
	switch ev.Key() {
	case tcell.KeyEnter:
		u.sendKey(kiosk.KeyEnter)
		return
	case tcell.KeyEscape:
		u.sendKey(kiosk.KeyEsc)
		return
	case keyTechnician:
		u.openPIN()
		return
	case tcell.KeyRune:
		if (ev.Rune() == langRune || ev.Rune() == 'L') && u.st.Phase == kiosk.PhaseIdle && ev.Modifiers()&(tcell.ModCtrl|tcell.ModAlt) == 0 {
			u.lang = (u.lang + 1) % len(u.opts.Languages)
			return
		}
	}
	for _, f := range u.opts.Footer {
		if !f.ShowOnly && ev.Key() == f.Key && (f.Key != tcell.KeyRune || ev.Rune() == f.Rune) {
			do := f.Do
			u.spawn(func(context.Context) { do() })
			return
		}
	}
	// Anything else, Ctrl-C, Ctrl-Z, Ctrl-\ and Ctrl-D included, stops
	// nothing; in a session it asks for more time.
	if u.st.Phase == kiosk.PhaseSession {
		u.sendKey(kiosk.KeyMore)
	}
}

func keyName(k tcell.Key, r rune) string {
	if k == tcell.KeyRune {
		return string(r)
	}
	if n, ok := tcell.KeyNames[k]; ok {
		return n
	}
	return fmt.Sprintf("Key(%d)", k)
}
