package kiosk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/printroom/voucherkiosk/devices"
	"github.com/printroom/voucherkiosk/kiosk/journal"
)

// Balancer is an optional Directory method: a user's balance (minor units;
// known=false when MyQ does not say). The runner asks it after the greeting
// is shown, so the lookup never waits for it.
type Balancer interface {
	Balance(ctx context.Context, userID int64) (balance int64, known bool, err error)
}

// ErrNotRegistered is what a Directory returns for a card MyQ does not know.
// Any other error means MyQ could not be asked.
var ErrNotRegistered = errors.New("card not registered")

// ErrInactive is what a Directory returns for a card whose MyQ user is not
// active.
var ErrInactive = errors.New("account not active")

// Directory finds who a card belongs to (MyQ, adapted by the daemon).
type Directory interface {
	FindUserByCard(ctx context.Context, card string) (User, error)
}

// Booker takes finished sessions. Book must not block; the outcome comes
// back through Runner.Post(BookingResult{...}).
type Booker interface {
	Book(sessionID string, f journal.Finish)
}

// Restored is the journal's ledger at start, for Engine.Restore.
type Restored struct {
	Open         []journal.OpenSession
	Unclaimed    []journal.UnclaimedCash
	PendingNotes []journal.NoteEscrow
	Unacked      map[string]journal.UnackedCredit
	// Pieces are the pieces in the cash boxes since the last cash-up
	// (CashTotals.Pieces), for the capacity rule.
	Pieces map[string]int64
}

// RestoredFrom reads what Restore needs from a ledger snapshot.
func RestoredFrom(s journal.Snapshot) Restored {
	if s.Ledger == nil {
		return Restored{}
	}
	return Restored{Open: s.OpenSessions(), Unclaimed: s.Unclaimed(), PendingNotes: s.PendingNotes(), Pieces: s.Cash().Pieces, Unacked: s.Unacked()}
}

// RunnerConfig wires the engine to the world.
type RunnerConfig struct {
	Engine        Config
	Journal       Journal
	Restore       Restored // the ledger at start (RestoredFrom(j.Ledger()))
	Directory     Directory
	Booker        Booker
	Acceptors     []devices.Acceptor
	Events        <-chan devices.Event
	Cache         *CardCache // nil: no offline card cache
	Clock         Clock      // nil: RealClock
	Log           *slog.Logger
	LookupTimeout time.Duration // default 10 s
	NewID         func() string // session id randomness; nil: RandomID

	// Vouchers carries out voucher commands; nil: codes are answered offline.
	Vouchers VoucherService
}

// maxPosted bounds Post's queue; beyond it events are dropped and logged
// (keys and booking results: nothing that carries money).
const maxPosted = 1024

// Runner is the engine's one goroutine and its I/O.
type Runner struct {
	cfg RunnerConfig
	log *slog.Logger
	eng *Engine
	// restored holds what Restore asked for (booking sessions finished at
	// restart) until Run can carry it out.
	restored []Command

	mu      sync.Mutex
	posted  []any
	state   State
	subs    map[*subscriber]struct{}
	running bool
	done    bool
	wake    chan struct{}
	pings   chan chan struct{}
	stops   chan chan struct{}
}

type subscriber struct{ ch chan State }

// NewRunner checks the config and restores the engine from the journal.
func NewRunner(cfg RunnerConfig) (*Runner, error) {
	if cfg.Journal == nil {
		return nil, errors.New("kiosk: runner: no journal")
	}
	if cfg.Directory == nil {
		return nil, errors.New("kiosk: runner: no directory")
	}
	if cfg.Booker == nil {
		return nil, errors.New("kiosk: runner: no booker")
	}
	if cfg.Clock == nil {
		cfg.Clock = RealClock{}
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.LookupTimeout <= 0 {
		cfg.LookupTimeout = 10 * time.Second
	}
	if cfg.Engine.Log == nil {
		cfg.Engine.Log = cfg.Log
	}
	r := &Runner{
		cfg:   cfg,
		log:   cfg.Log,
		subs:  map[*subscriber]struct{}{},
		wake:  make(chan struct{}, 1),
		pings: make(chan chan struct{}),
		stops: make(chan chan struct{}),
	}
	r.eng = NewEngine(cfg.Engine, cfg.Journal, cfg.Clock.Now(), cfg.NewID)
	// Restore now, so the first state anyone reads (the screen is built
	// before Run) is the restored one, not a blank idle screen over a
	// session that is about to come back. Its commands wait for Run.
	rs := cfg.Restore
	r.eng.RestoreUnacked(rs.Unacked)
	r.eng.boxes.set(CashboxPieces{Pieces: rs.Pieces})
	r.restored = r.eng.Restore(rs.Open, rs.Unclaimed, rs.PendingNotes)
	r.state = r.eng.State()
	return r, nil
}

// Run owns the engine until ctx ends; it ends every goroutine it started
// before it returns.
func (r *Runner) Run(ctx context.Context) error {
	r.mu.Lock()
	if r.running || r.done {
		r.mu.Unlock()
		return errors.New("kiosk: runner: Run called twice")
	}
	r.running = true
	r.mu.Unlock()

	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
		r.mu.Lock()
		r.running, r.done = false, true
		for s := range r.subs {
			close(s.ch)
			delete(r.subs, s)
		}
		r.mu.Unlock()
	}()

	timer := r.cfg.Clock.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	var armed time.Time

	// Acceptors start inhibited by contract; say so anyway after a restart.
	r.exec(ctx, &wg, []Command{SetAccepting{On: false}})
	r.exec(ctx, &wg, r.restored)
	r.restored = nil
	r.publish()

	events := r.cfg.Events
	for {
		if d := r.eng.NextDeadline(); !d.Equal(armed) {
			timer.Stop()
			armed = d
			if !d.IsZero() {
				timer.Reset(d.Sub(r.cfg.Clock.Now()))
			}
		}
		select {
		case <-ctx.Done():
			r.drain(ctx, &wg, events)
			return nil
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			r.handle(ctx, &wg, ev)
		case <-r.wake:
			for _, ev := range r.takePosted() {
				r.handle(ctx, &wg, ev)
			}
		case <-timer.C():
			armed = time.Time{}
			r.handle(ctx, &wg, Tick{})
		case reply := <-r.pings:
			close(reply)
		case reply := <-r.stops:
			r.exec(ctx, &wg, r.eng.Shutdown(r.cfg.Clock.Now()))
			r.publish()
			close(reply)
		}
	}
}

// drain handles the device events already in the channel when Run's
// context ends. A driver that handed an event over may have acknowledged it
// to its hardware (an SSP EVENT_ACK): the device then never reports it
// again, so a credit left in the buffer would be a note stacked and never
// journaled, and the next start would even see its pending note as returned.
// Devices are stopped before the runner (the daemon and its tests end their
// context first), so what is buffered now is everything they will send; the
// bound only keeps a device that is still running from holding Run here.
func (r *Runner) drain(ctx context.Context, wg *sync.WaitGroup, events <-chan devices.Event) {
	for n := cap(events) + 1; n > 0 && events != nil; n-- {
		select {
		case ev, ok := <-events:
			if !ok {
				return
			}
			r.handle(ctx, wg, ev)
		default:
			return
		}
	}
}

func (r *Runner) handle(ctx context.Context, wg *sync.WaitGroup, ev any) {
	r.exec(ctx, wg, r.eng.Handle(ev, r.cfg.Clock.Now()))
	r.publish()
}

func (r *Runner) exec(ctx context.Context, wg *sync.WaitGroup, cmds []Command) {
	for _, c := range cmds {
		switch c := c.(type) {
		case SetAccepting:
			for _, a := range r.cfg.Acceptors {
				a.SetAccepting(c.On && !slices.Contains(c.Refuse, a.Name()))
			}
		case Decide:
			if c.Escrow.Decide == nil {
				r.log.Error("kiosk: escrow without a decide channel", "device", c.Escrow.Device, "note_id", c.Escrow.NoteID)
				continue
			}
			select {
			case c.Escrow.Decide <- c.Decision:
			default:
				// Buffered (1) by contract: full means an answer is already there.
				r.log.Error("kiosk: escrow decide channel full", "device", c.Escrow.Device, "note_id", c.Escrow.NoteID)
			}
		case Book:
			r.cfg.Booker.Book(c.SessionID, c.Finish)
		case LookupCard:
			wg.Add(1)
			go func() {
				defer wg.Done()
				res := r.lookup(ctx, c)
				r.Post(res)
				r.balance(ctx, res)
			}()
		case AckCredit:
			c.Ack() // durable in the journal: the driver may confirm it to the device
		case CacheUser:
			if err := r.cfg.Cache.Put(c.Card, c.User, r.cfg.Clock.Now()); err != nil {
				r.log.Warn("kiosk: card cache not saved", "err", err)
			}
		case RedeemVoucher, CommitVoucher, CancelVoucher:
			r.execVoucher(c)
		default:
			r.log.Error("kiosk: unknown command", "type", fmt.Sprintf("%T", c))
		}
	}
}

// balance asks for the balance of a user MyQ just found, after the greeting
// went to the screen: the student is greeted one round trip sooner, and the
// balance appears when it comes.
func (r *Runner) balance(ctx context.Context, res LookupResult) {
	b, ok := r.cfg.Directory.(Balancer)
	if !ok || res.User == nil || res.Err != nil || res.User.Balance != nil {
		return
	}
	bctx, cancel := context.WithTimeout(ctx, r.cfg.LookupTimeout)
	defer cancel()
	bal, known, err := b.Balance(bctx, res.User.ID)
	if err == nil && known {
		r.Post(BalanceUpdate{SessionID: res.SessionID, Balance: bal})
	}
}

func (r *Runner) lookup(ctx context.Context, c LookupCard) LookupResult {
	lctx, cancel := context.WithTimeout(ctx, r.cfg.LookupTimeout)
	defer cancel()
	res := LookupResult{SessionID: c.SessionID, Card: c.Card}
	u, err := r.cfg.Directory.FindUserByCard(lctx, c.Card)
	switch {
	case err == nil:
		res.User = &u
	case errors.Is(err, ErrNotRegistered):
		res.NotFound = true
		// The card is nobody's now: a cached owner must not be used the
		// next time MyQ is unreachable.
		if err := r.cfg.Cache.Remove(c.Card); err != nil {
			r.log.Warn("kiosk: card cache entry not removed", "card", devices.MaskCard(c.Card), "err", err)
		}
	case errors.Is(err, ErrInactive):
		res.NotFound, res.Inactive = true, true
	default:
		res.Err = err
		if cu, ok := r.cfg.Cache.Get(c.Card, r.cfg.Clock.Now()); ok {
			res.User = &cu
		}
		r.log.Warn("kiosk: card lookup failed", "card", devices.MaskCard(c.Card), "cached", res.User != nil, "err", err)
	}
	return res
}

func (r *Runner) publish() {
	st := r.eng.State()
	r.mu.Lock()
	defer r.mu.Unlock()
	if st.Seq == r.state.Seq {
		r.state.Now = st.Now
		return
	}
	r.state = st
	for s := range r.subs {
		select {
		case <-s.ch: // drop the unread older state
		default:
		}
		s.ch <- st.clone()
	}
}

// Post hands the loop an event (BookingResult, QueueUpdate, KeyPress, a
// device event). It never blocks.
func (r *Runner) Post(ev any) {
	r.mu.Lock()
	if len(r.posted) >= maxPosted {
		r.mu.Unlock()
		r.log.Error("kiosk: event queue full, event dropped", "type", fmt.Sprintf("%T", ev))
		return
	}
	r.posted = append(r.posted, ev)
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

func (r *Runner) takePosted() []any {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.posted
	r.posted = nil
	return p
}

// Key is a key the student pressed.
func (r *Runner) Key(k Key) { r.Post(KeyPress{Key: k}) }

// State is the latest state.
func (r *Runner) State() State {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.state.clone()
}

// Subscribe returns a channel holding the latest state (capacity 1: a newer
// state replaces an unread older one, so a slow reader never blocks the
// engine) and a function that ends the subscription. The channel starts with
// the current state and is closed when Run ends or on unsubscribe.
func (r *Runner) Subscribe() (<-chan State, func()) {
	s := &subscriber{ch: make(chan State, 1)}
	r.mu.Lock()
	defer r.mu.Unlock()
	s.ch <- r.state.clone()
	if r.done {
		close(s.ch)
		return s.ch, func() {}
	}
	r.subs[s] = struct{}{}
	var once sync.Once
	return s.ch, func() {
		once.Do(func() {
			r.mu.Lock()
			defer r.mu.Unlock()
			if _, ok := r.subs[s]; ok {
				delete(r.subs, s)
				close(s.ch)
			}
		})
	}
}

// Ping is answered by the loop itself: the watchdog's proof it is not stuck.
func (r *Runner) Ping(ctx context.Context) error {
	reply := make(chan struct{})
	select {
	case r.pings <- reply:
	case <-ctx.Done():
		return fmt.Errorf("kiosk: ping: %w", ctx.Err())
	}
	<-reply
	return nil
}

// Shutdown applies Engine.Shutdown inside the loop (SIGTERM). The daemon
// then ends Run's context.
func (r *Runner) Shutdown(ctx context.Context) error {
	reply := make(chan struct{})
	select {
	case r.stops <- reply:
	case <-ctx.Done():
		return fmt.Errorf("kiosk: shutdown: %w", ctx.Err())
	}
	select {
	case <-reply:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("kiosk: shutdown: %w", ctx.Err())
	}
}
