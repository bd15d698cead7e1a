// Package booking owns the way a finished session's money reaches MyQ
// (DESIGN.md "The money flow", steps 5-9): it creates and commits a payment
// for each pending session, journals every step that MyQ confirmed, keeps
// the sessions MyQ could not take in the offline queue and retries them with
// capped, fully jittered exponential backoff, resolves ambiguous outcomes
// (an answer lost after the change was applied) by listing the user's
// payments before repeating a create or a commit, and puts sessions that
// retrying will not fix in "needs attention" without ever dropping them.
// See docs/ARCHITECTURE.md for its place among the packages.
//
// The journal is the queue: a session is pending from its KindFinish until
// its KindCommitted, so a restart (DESIGN step 9) simply takes every pending
// session from the ledger again. What this package keeps in memory (backoff,
// which requests may have been sent) is rebuilt conservatively at start.
package booking

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/printroom/voucherkiosk/api"
	"github.com/printroom/voucherkiosk/kiosk/journal"
)

// Defaults for the Config fields left zero.
const (
	DefaultMaxInFlight      = 2
	DefaultMinBackoff       = time.Second
	DefaultMaxBackoff       = time.Minute
	DefaultAttentionBackoff = 10 * time.Minute
	// DefaultDrainSpacing paces queued attempts (pace.go): 500 kiosks at 2
	// requests a session ask about 43 requests/s of MyQ (docs/BENCHMARKS.md).
	DefaultDrainSpacing = 23 * time.Second
	// BalanceWait bounds the balance query after a commit: the receipt
	// never waits longer than this for a number it can live without.
	BalanceWait = time.Second
)

// Config is what a Booker needs.
type Config struct {
	Client  *api.Client
	Journal *journal.Journal
	// KioskID prefixes every reference ("<kiosk id>/<session id>"): payments
	// whose description starts with it are this kiosk's.
	KioskID string
	Log     *slog.Logger     // nil: discard
	Now     func() time.Time // nil: time.Now
	// Jitter returns a duration in [0, max) (full jitter). nil: uniform
	// random. Called with the Booker's lock held, so it need not be safe
	// for concurrent use (a seeded *rand.Rand fits: tests are deterministic).
	Jitter func(max time.Duration) time.Duration

	MaxInFlight      int           // requests in flight at most; default 2
	MinBackoff       time.Duration // first retry within; default 1 s
	MaxBackoff       time.Duration // a session's retry cap; default 1 min (with pacing on, the outage probe follows the slots instead)
	AttentionBackoff time.Duration // "needs attention" retries; default 10 min
	// DrainSpacing: queued (not fresh) attempts start at most one per
	// spacing, on slots phased by KioskID (pace.go); default 23 s; < 0: off.
	DrainSpacing time.Duration

	// OnResult answers Book (once with the first outcome, and once more
	// when a queued session commits later). Called from the Booker's
	// goroutines; it must not block.
	OnResult func(Result)
	// OnBalance receives the user's balance after a commit reported through
	// OnResult, when MyQ tells it within BalanceWait. Nil: not asked.
	OnBalance func(sessionID string, balance int64)
	// OnStatus is called after every change of the queue; must not block.
	OnStatus func(Status)
	// OnAPIError counts MyQ failures by kind ("transient", "auth",
	// "forbidden", "provider_disabled", "user_not_found", "refused",
	// "malformed"), for the monitor.
	OnAPIError func(kind string)
	// OnCommitted is called with the amount of every commit journaled.
	OnCommitted func(amount int64)

	// Values maps "<device>:<key>" to the configured amount of that coin
	// or note; MaxTopup is [kiosk] max_topup (0: none). Before a session is
	// booked its journaled credits are checked against them: a journal
	// edited by hand (or damaged into sense) must not move money. A
	// violation needs attention and is never booked. Nil Values: the
	// credits are not checked.
	Values   map[string]int64
	MaxTopup int64
}

// Result is the outcome of booking one session, for the screen.
type Result struct {
	SessionID string
	Reference string
	// Committed: the money is on the account (KindCommitted is journaled).
	Committed bool
	// Queued: the first attempt did not commit; the session stays pending
	// and will be credited automatically.
	Queued bool
	// Attention is set when the session needs a technician (and why).
	Attention string
	Err       error
}

// Status is the queue as the screen, the monitor and kioskctl see it.
type Status struct {
	Pending        int       // finished sessions not yet committed (attention included)
	OldestPending  time.Time // zero when none
	NeedsAttention int
	LastError      string
	Online         bool // the last MyQ request got an answer that was not a server failure
}

// Item is one queued session, for `kioskctl queue` and the technician menu.
type Item struct {
	SessionID   string
	Reference   string
	Amount      int64
	UserID      int64  // 0: not resolved yet
	Card        string // masked
	Finished    time.Time
	PaymentID   string // current payment, "" none
	Attention   string
	Attempts    int
	LastError   string
	NextAttempt time.Time
}

// entry is one pending session. Fields below "booking state" are changed
// only by the goroutine that owns the entry while inflight (or by Run's
// start before any is), always under Booker.mu so readers see them whole.
type entry struct {
	id       string
	finish   journal.Finish
	finished time.Time
	ord      int64 // finish order

	// booking state
	userID    int64
	paymentID string
	attention string
	// createMaybeSent: a create may have reached MyQ without us learning
	// its id (lost answer, crash): list before creating again.
	createMaybeSent bool
	// commitTried: a commit of paymentID may have happened: list before
	// committing again.
	commitTried bool

	// scheduling
	endedAt  time.Time // when the last attempt ended (zero: none in this process)
	attempts int
	nextAt   time.Time
	inflight bool
	done     bool
	lastErr  string
	// verify: the session was opened offline on a cached user: its card is
	// looked up again before it is booked (cleared once MyQ confirms).
	verify bool
	// unknownSeen counts consecutive listings that showed a payment of
	// this session in a state word the kiosk does not know: once is
	// retried (logged by the client), twice needs attention.
	unknownSeen int
	// checked: the journaled credits were checked against the configured
	// values (invalid says why they failed, "" they passed).
	checked bool
	invalid string
	// fresh: handed over by Book and not yet attempted; tried at once,
	// ahead of the queue and past the offline gate.
	fresh bool
	// report: OnResult is owed the first outcome; reportCommit: a queued
	// session Booked in this process reports its later commit too.
	report       bool
	reportCommit bool
}

// Booker books finished sessions into MyQ. Book, FlushNow, Status and Queue
// are safe for concurrent use; Run owns the goroutines.
type Booker struct {
	cfg Config
	log *slog.Logger

	kick chan struct{}

	mu        sync.Mutex
	entries   map[string]*entry
	order     []*entry // finish order; done entries are compacted lazily
	ndone     int
	nextOrd   int64
	inflight  int
	attention int // entries with attention != ""
	// failures counts consecutive failures that say MyQ is unreachable or
	// refuses the kiosk (transient, 401). While > 0 the queue sends one
	// probe at a time, not before gateAt.
	failures  int
	gateAt    time.Time
	paceAt    time.Time     // no queued attempt starts before (a slot)
	noToken   bool          // the last failure was the token request (attempt.go's probe)
	phase     time.Duration // this kiosk's place in DrainSpacing
	lastErr   string
	online    bool
	running   bool
	pastRun   bool
	refPrefix string
}

// New checks cfg and builds a Booker. It does not contact MyQ.
func New(cfg Config) (*Booker, error) {
	if cfg.Client == nil {
		return nil, errors.New("booking: config: no MyQ client")
	}
	if cfg.Journal == nil {
		return nil, errors.New("booking: config: no journal")
	}
	if strings.TrimSpace(cfg.KioskID) == "" {
		return nil, errors.New("booking: config: empty kiosk id")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Jitter == nil {
		cfg.Jitter = func(max time.Duration) time.Duration {
			if max <= 0 {
				return 0
			}
			return rand.N(max)
		}
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = DefaultMaxInFlight
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = DefaultMinBackoff
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = DefaultMaxBackoff
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		return nil, fmt.Errorf("booking: config: max backoff %v below min backoff %v", cfg.MaxBackoff, cfg.MinBackoff)
	}
	if cfg.AttentionBackoff <= 0 {
		cfg.AttentionBackoff = DefaultAttentionBackoff
	}
	if cfg.DrainSpacing == 0 {
		cfg.DrainSpacing = DefaultDrainSpacing
	}
	cfg.DrainSpacing = max(cfg.DrainSpacing, 0)
	return &Booker{
		phase:     phaseOf(cfg.KioskID, cfg.DrainSpacing),
		cfg:       cfg,
		log:       cfg.Log,
		kick:      make(chan struct{}, 1),
		entries:   map[string]*entry{},
		online:    true,
		refPrefix: cfg.KioskID + "/",
	}, nil
}

// Book takes a finished session (already journaled as KindFinish by the
// engine) and books it at once. It never blocks: the outcome comes through
// Config.OnResult. A session Booked before Run starts is booked when it does.
func (b *Booker) Book(sessionID string, f journal.Finish) {
	now := b.cfg.Now()
	b.mu.Lock()
	e, ok := b.entries[sessionID]
	if !ok {
		e = &entry{id: sessionID, finish: f, finished: now, ord: b.nextOrd, userID: f.UserID, verify: f.Offline && f.UserID != 0}
		b.nextOrd++
		b.entries[sessionID] = e
		b.order = append(b.order, e)
	}
	e.fresh, e.report, e.nextAt = true, true, now
	st := b.statusLocked()
	b.mu.Unlock()
	b.signal()
	b.emitStatus(st)
}

// FlushNow retries every pending session now, needs-attention ones included
// (after the technician fixed MyQ). While MyQ stays unreachable the queue
// still sends one probe at a time.
func (b *Booker) FlushNow() {
	now := b.cfg.Now()
	b.mu.Lock()
	for _, e := range b.order {
		if !e.done {
			e.nextAt = now
		}
	}
	b.gateAt = now
	b.paceAt = now // asked for: the first goes now, the rest keep their pace
	// and books: a token-only probe would hold it back a slot.
	b.noToken = false
	b.mu.Unlock()
	b.signal()
}

// Status is the queue now.
func (b *Booker) Status() Status {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.statusLocked()
}

// Queue lists the pending sessions in finish order.
func (b *Booker) Queue() []Item {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]Item, 0, len(b.entries))
	for _, e := range b.order {
		if e.done {
			continue
		}
		out = append(out, Item{
			SessionID: e.id, Reference: e.finish.Reference, Amount: e.finish.Total,
			UserID: e.userID, Card: maskCard(e.finish.Card), Finished: e.finished,
			PaymentID: e.paymentID, Attention: e.attention, Attempts: e.attempts,
			LastError: e.lastErr, NextAttempt: e.nextAt,
		})
	}
	return out
}

func (b *Booker) statusLocked() Status {
	st := Status{Pending: len(b.entries), NeedsAttention: b.attention, LastError: b.lastErr, Online: b.online}
	for _, e := range b.order {
		if !e.done {
			st.OldestPending = e.finished
			break
		}
	}
	return st
}

func (b *Booker) emitStatus(st Status) {
	if b.cfg.OnStatus != nil {
		b.cfg.OnStatus(st)
	}
}

func (b *Booker) signal() {
	select {
	case b.kick <- struct{}{}:
	default:
	}
}

// Run is the flusher. It takes every pending session from the journal's
// ledger, then books them (and those handed over by Book) until ctx ends.
// It returns once every goroutine it started has ended.
func (b *Booker) Run(ctx context.Context) error {
	b.mu.Lock()
	if b.running || b.pastRun {
		b.mu.Unlock()
		return errors.New("booking: Run called twice")
	}
	b.running = true
	b.mu.Unlock()

	var wg sync.WaitGroup
	defer func() {
		wg.Wait()
		b.mu.Lock()
		b.running, b.pastRun = false, true
		b.mu.Unlock()
	}()

	b.load()
	b.emitStatus(b.Status())

	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		b.mu.Lock()
		now := b.cfg.Now()
		start := b.pickLocked(now)
		wake := b.nextWakeLocked()
		b.mu.Unlock()
		for _, e := range start {
			wg.Add(1)
			go func() {
				defer wg.Done()
				b.attempt(ctx, e)
				b.signal()
			}()
		}
		timer.Stop()
		select {
		case <-timer.C:
		default:
		}
		if !wake.IsZero() {
			d := wake.Sub(b.cfg.Now())
			if d < time.Millisecond {
				d = time.Millisecond
			}
			timer.Reset(d)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-b.kick:
		case <-timer.C:
		}
	}
}

// load takes the journal's pending sessions (DESIGN step 9). Whether a
// create or commit of an earlier process reached MyQ is unknown, so each
// session lists its user's payments before repeating either.
func (b *Booker) load() {
	pend := b.cfg.Journal.Ledger().Pending()
	now := b.cfg.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	booked := b.order
	b.order = make([]*entry, 0, len(pend)+len(booked))
	seen := make(map[string]bool, len(pend))
	for i, p := range pend {
		seen[p.ID] = true
		e, ok := b.entries[p.ID]
		if !ok {
			e = &entry{id: p.ID, finish: p.Finish, nextAt: now, createMaybeSent: true}
			b.entries[p.ID] = e
		}
		e.ord, e.finished = int64(i), p.Finished
		e.userID = p.UserID
		if e.userID == 0 {
			e.userID = p.Finish.UserID
		}
		e.verify = p.Finish.Offline && e.userID != 0 && !p.Verified
		if p.PaymentID != "" {
			e.paymentID = p.PaymentID
			e.commitTried = true
		}
		b.setAttentionLocked(e, p.Attention)
		if p.Attention != "" && !e.fresh {
			// A technician may have fixed MyQ while the kiosk was down.
			e.nextAt = now
		}
		b.order = append(b.order, e)
	}
	b.nextOrd = int64(len(pend))
	for _, e := range booked {
		if !seen[e.id] && !e.done {
			e.ord = b.nextOrd
			b.nextOrd++
			b.order = append(b.order, e)
		}
	}
	if len(pend) > 0 {
		b.log.Info("booking: pending sessions taken from the journal", "count", len(pend))
	}
}

func (b *Booker) setAttentionLocked(e *entry, reason string) {
	if (e.attention != "") != (reason != "") {
		if reason != "" {
			b.attention++
		} else {
			b.attention--
		}
	}
	e.attention = reason
}

// pickLocked chooses the entries to start now: fresh ones first (the
// student is waiting), then due ones in finish order. While MyQ is failing
// only one probe is in flight, and not before gateAt.
func (b *Booker) pickLocked(now time.Time) []*entry {
	var start []*entry
	take := func(e *entry) {
		e.inflight = true
		b.inflight++
		start = append(start, e)
	}
	if b.inflight >= b.cfg.MaxInFlight {
		return nil
	}
	for _, e := range b.order {
		if b.inflight >= b.cfg.MaxInFlight {
			return start
		}
		if e.fresh && !e.inflight && !e.done {
			take(e)
		}
	}
	limit := b.cfg.MaxInFlight
	if b.failures > 0 {
		if now.Before(b.gateAt) {
			return start
		}
		limit = 1
	}
	if now.Before(b.paceAt) {
		return start
	}
	for _, e := range b.order {
		if b.inflight >= limit {
			break
		}
		if !e.done && !e.inflight && !now.Before(e.nextAt) {
			take(e)
			if b.cfg.DrainSpacing > 0 {
				b.paceAt = slotAtOrAfter(now.Add(time.Nanosecond), b.cfg.DrainSpacing, b.phase)
				break
			}
		}
	}
	b.compactLocked()
	return start
}

func (b *Booker) compactLocked() {
	if b.ndone < 64 || b.ndone < len(b.order)/2 {
		return
	}
	kept := b.order[:0]
	for _, e := range b.order {
		if !e.done {
			kept = append(kept, e)
		}
	}
	clear(b.order[len(kept):])
	b.order = kept
	b.ndone = 0
}

// nextWakeLocked is when the loop has something to start (zero: nothing
// until a kick).
func (b *Booker) nextWakeLocked() time.Time {
	if b.inflight >= b.cfg.MaxInFlight {
		return time.Time{}
	}
	var next time.Time
	for _, e := range b.order {
		if e.done || e.inflight {
			continue
		}
		if next.IsZero() || e.nextAt.Before(next) {
			next = e.nextAt
		}
	}
	if next.IsZero() {
		return next
	}
	if b.failures > 0 {
		if b.inflight > 0 {
			return time.Time{} // the probe's end kicks the loop
		}
		if next.Before(b.gateAt) {
			next = b.gateAt
		}
	}
	if next.Before(b.paceAt) {
		next = b.paceAt
	}
	return next
}

// backoff is the full-jitter delay after n consecutive failures.
func (b *Booker) backoffLocked(n int) time.Duration {
	c := b.cfg.MinBackoff
	for i := 1; i < n && c < b.cfg.MaxBackoff; i++ {
		c *= 2
	}
	if c > b.cfg.MaxBackoff {
		c = b.cfg.MaxBackoff
	}
	return b.cfg.Jitter(c)
}

// maskCard keeps the last four characters (same rule as devices.MaskCard;
// booking imports no device code).
func maskCard(n string) string {
	r := []rune(n)
	if len(r) <= 4 {
		return strings.Repeat("*", len(r))
	}
	return strings.Repeat("*", len(r)-4) + string(r[len(r)-4:])
}
