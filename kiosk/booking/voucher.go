package booking

// Vouchers carries a scanned MyQ voucher to MyQ. Unlike cash it is
// interactive (the student waits for the voucher's value and confirms it),
// but it is exactly-once in the same way: the engine journals the code as
// seen (masked) before MyQ is asked, and the student's Enter (confirmed)
// before the commit is sent; this file journals what MyQ confirmed
// (created, committed) or that the voucher moved no money (closed). A lost
// answer or a crash is resolved by listing the voucher provider's payments
// and matching our reference (or the payment id) before anything is
// repeated; a commit is only repeated when the listing shows the payment
// still open, or cannot be had. A voucher is never taken offline.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/printroom/voucherkiosk/api"
	"github.com/printroom/voucherkiosk/kiosk/journal"
)

// DefaultVoucherRetry is how often unresolved vouchers (an owed commit MyQ
// did not confirm, a payment to roll back) are tried again.
const DefaultVoucherRetry = 30 * time.Second

// VoucherConfig is what Vouchers needs.
type VoucherConfig struct {
	Client    *api.Client
	Journal   *journal.Journal
	Log       *slog.Logger // nil: discard
	Form      api.VoucherAPI
	Provider  string // v3 reference; "" api.DefaultVoucherProvider
	CodeParam string // "" learned from the provider list
	// Retry is the period of the retries of unresolved vouchers; default 30 s.
	Retry time.Duration
	// OnResult receives every outcome; called from Vouchers' goroutines, it
	// must not block.
	OnResult func(VoucherResult)
}

// VoucherOutcome is what became of a voucher request.
type VoucherOutcome int

const (
	// VoucherOffered: MyQ created the payment; Amount is the voucher's value.
	VoucherOffered VoucherOutcome = iota + 1
	// VoucherRefused: MyQ refused the code (unknown, used, expired); Message
	// is MyQ's text, cleaned.
	VoucherRefused
	// VoucherOffline: MyQ could not be asked; nothing was taken.
	VoucherOffline
	// VoucherFailed: MyQ refused the kiosk (rights, set-up); nothing taken.
	VoucherFailed
	// VoucherCommitted: the voucher's money is on the account.
	VoucherCommitted
	// VoucherCommitPending: the student confirmed and MyQ's answer was lost
	// or MyQ is away: the commit is owed and retried until resolved.
	VoucherCommitPending
	// VoucherClosed: a restart or a retry found the voucher moved no money.
	VoucherClosed
)

var outcomeNames = [...]string{"", "offered", "refused", "offline", "failed", "committed", "commit pending", "closed"}

func (o VoucherOutcome) String() string {
	if o > 0 && int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return fmt.Sprintf("VoucherOutcome(%d)", int(o))
}

// VoucherResult is one outcome, for the engine.
type VoucherResult struct {
	Reference string
	Session   string
	Outcome   VoucherOutcome
	PaymentID string // offered: the payment to commit or roll back
	Amount    int64
	Message   string // MyQ's words, cleaned (api.VoucherMessage)
	Used      bool   // the refusal says the voucher was used
	Err       error
}

// VoucherRequest is a code to redeem; its KindVoucherSeen is journaled.
type VoucherRequest struct {
	Reference string
	Session   string
	User      api.User
	Code      string
}

// Vouchers talks to MyQ for vouchers. Redeem, Commit and Cancel never block;
// Run owns the goroutines.
type Vouchers struct {
	cfg VoucherConfig
	log *slog.Logger

	mu      sync.Mutex
	ctx     context.Context
	wg      *sync.WaitGroup
	route   *api.VoucherRoute
	retry   map[string]bool // refs to resolve on the next sweep
	busy    map[string]bool // refs with an operation in flight
	early   []func()        // operations asked for before Run started
	kick    chan struct{}
	running bool
}

// NewVouchers checks cfg.
func NewVouchers(cfg VoucherConfig) (*Vouchers, error) {
	if cfg.Client == nil || cfg.Journal == nil {
		return nil, errors.New("booking: voucher config: client and journal are required")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Retry <= 0 {
		cfg.Retry = DefaultVoucherRetry
	}
	if cfg.Provider == "" {
		cfg.Provider = api.DefaultVoucherProvider
	}
	// What the journal holds open now was left by an earlier process. Taken
	// here, not when Run's goroutine gets going: a code the engine journals
	// as seen meanwhile is this process's own request, not one to abandon.
	v := &Vouchers{cfg: cfg, log: cfg.Log, retry: map[string]bool{}, busy: map[string]bool{}, kick: make(chan struct{}, 1)}
	v.load()
	return v, nil
}

// Run resolves every voucher the journal left open (a crash, a lost
// answer), then retries unresolved ones every Retry until ctx ends. It
// returns once every goroutine it started has ended.
func (v *Vouchers) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	v.mu.Lock()
	if v.running || v.wg != nil {
		v.mu.Unlock()
		return errors.New("booking: vouchers Run called twice")
	}
	v.running, v.ctx, v.wg = true, ctx, &wg
	for _, launch := range v.early {
		launch()
	}
	v.early = nil
	v.mu.Unlock()
	defer func() {
		v.mu.Lock()
		v.running = false
		v.mu.Unlock()
		wg.Wait()
	}()
	t := time.NewTicker(v.cfg.Retry)
	defer t.Stop()
	for {
		v.sweep(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-v.kick:
		}
	}
}

// load marks for the first sweep what the journal left unresolved: open
// vouchers, and closed ones still owing MyQ a rollback.
func (v *Vouchers) load() {
	l := v.cfg.Journal.Ledger()
	for _, o := range l.OpenVouchers() {
		v.retry[o.Reference] = true
	}
	for _, o := range l.VoucherRollbacks() {
		v.retry[o.Reference] = true
	}
}

// Sweep resolves the unresolved vouchers now.
func (v *Vouchers) Sweep() {
	select {
	case v.kick <- struct{}{}:
	default:
	}
}

func (v *Vouchers) sweep(ctx context.Context) {
	v.mu.Lock()
	var refs []string
	for ref := range v.retry {
		if !v.busy[ref] {
			refs = append(refs, ref)
			v.busy[ref] = true
		}
	}
	v.mu.Unlock()
	for _, ref := range refs {
		v.resolve(ctx, ref)
		v.mu.Lock()
		delete(v.busy, ref)
		v.mu.Unlock()
	}
}

// start runs f on a goroutine Run owns and reports its result (when ok);
// false when Run has ended or ref is busy. Asked before Run started (the
// daemon starts its parts together), f waits for Run, as Book does.
func (v *Vouchers) start(ref string, f func(ctx context.Context) (r VoucherResult, ok bool)) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.busy[ref] || !v.running && v.wg != nil {
		return false
	}
	v.busy[ref] = true
	if !v.running {
		v.early = append(v.early, func() { v.launchLocked(ref, f) })
		return true
	}
	v.launchLocked(ref, f)
	return true
}

func (v *Vouchers) launchLocked(ref string, f func(ctx context.Context) (VoucherResult, bool)) {
	v.wg.Add(1)
	ctx := v.ctx
	go func() {
		defer v.wg.Done()
		r, ok := f(ctx)
		v.mu.Lock()
		delete(v.busy, ref)
		v.mu.Unlock()
		// Only now: the engine answers an offer with Commit at once, and
		// that must find the reference free, not turn into "commit pending".
		if ok {
			v.report(r)
		}
	}()
}

func (v *Vouchers) report(r VoucherResult) {
	if v.cfg.OnResult != nil {
		v.cfg.OnResult(r)
	}
}

func (v *Vouchers) append(kind journal.Kind, session string, data any) error {
	_, err := v.cfg.Journal.Append(journal.New(kind, session, time.Now(), data))
	return err
}

// routeFor resolves (once) how this MyQ redeems vouchers.
func (v *Vouchers) routeFor(ctx context.Context) (api.VoucherRoute, error) {
	v.mu.Lock()
	rt := v.route
	v.mu.Unlock()
	if rt != nil {
		return *rt, nil
	}
	r, err := v.cfg.Client.ResolveVoucher(ctx, v.cfg.Form, v.cfg.Provider, v.cfg.CodeParam)
	if err != nil {
		return api.VoucherRoute{}, err
	}
	v.log.Info("vouchers: redeeming through MyQ", "route", r.String())
	v.mu.Lock()
	v.route = &r
	v.mu.Unlock()
	return r, nil
}

// Redeem asks MyQ to create the voucher's payment. The outcome (offered,
// refused, offline, failed) comes through OnResult.
func (v *Vouchers) Redeem(req VoucherRequest) {
	if !v.start(req.Reference, func(ctx context.Context) (VoucherResult, bool) { return v.redeem(ctx, req), true }) {
		v.report(VoucherResult{Reference: req.Reference, Session: req.Session, Outcome: VoucherOffline, Err: errors.New("vouchers not running")})
	}
}

func (v *Vouchers) redeem(ctx context.Context, req VoucherRequest) VoucherResult {
	res := VoucherResult{Reference: req.Reference, Session: req.Session}
	closeAs := func(reason, msg string) {
		if err := v.append(journal.KindVoucherClosed, req.Session, journal.VoucherClosed{Reference: req.Reference, Reason: reason, Message: msg}); err != nil {
			v.log.Warn("vouchers: closing record not journaled; resolved on the next sweep", "reference", req.Reference, "err", err)
			v.markRetry(req.Reference)
		}
	}
	rt, err := v.routeFor(ctx)
	if err != nil {
		closeAs("offline", "")
		res.Outcome, res.Err = VoucherOffline, err
		return res
	}
	p, err := v.cfg.Client.CreateVoucherPayment(ctx, rt, req.User, req.Code, req.Reference)
	switch {
	case err == nil:
	case api.IsVoucherRefused(err):
		res.Outcome, res.Message, res.Used, res.Err = VoucherRefused, api.VoucherMessage(err), api.IsVoucherUsed(err), err
		closeAs("refused", res.Message)
		return res
	case api.IsTransient(err):
		// The create may have happened: find it by our reference.
		ps, lerr := v.cfg.Client.ListVoucherPayments(ctx, rt, req.User.ID)
		if lerr != nil {
			if !api.IsTransient(lerr) {
				// No listing (an older MyQ): an uncommitted payment moves no
				// money and the code stays unused.
				closeAs("offline", "")
			} else {
				v.markRetry(req.Reference) // roll back what the sweep finds
			}
			res.Outcome, res.Err = VoucherOffline, err
			return res
		}
		found, ok := match(ps, req.Reference, "")
		if !ok || found.State != api.StateOpen || found.Amount <= 0 {
			closeAs("offline", "")
			res.Outcome, res.Err = VoucherOffline, err
			return res
		}
		v.log.Info("vouchers: adopted a payment whose create answer was lost", "reference", req.Reference, "payment", found.ID)
		p = api.VoucherPayment{ID: found.ID, Amount: found.Amount}
	default:
		res.Outcome, res.Message, res.Err = VoucherFailed, api.VoucherMessage(err), err
		v.log.Error("vouchers: MyQ refused the kiosk's voucher request", "reference", req.Reference, "err", err)
		closeAs("failed", res.Message)
		return res
	}
	if err := v.append(journal.KindVoucherCreated, req.Session, journal.VoucherPayment{Reference: req.Reference, PaymentID: p.ID, Amount: int64(p.Amount)}); err != nil {
		// Cancelled meanwhile (Esc, timeout) or the journal failed: this
		// payment must not stay open for anyone to commit.
		v.log.Warn("vouchers: created payment not journaled; rolling it back", "reference", req.Reference, "err", err)
		v.rollback(ctx, rt, req.Reference, p.ID)
		res.Outcome, res.Err = VoucherOffline, err
		return res
	}
	res.Outcome, res.Amount, res.PaymentID = VoucherOffered, int64(p.Amount), p.ID
	return res
}

// Commit commits a voucher whose KindVoucherConfirmed is journaled.
func (v *Vouchers) Commit(ref string) {
	if !v.start(ref, func(ctx context.Context) (VoucherResult, bool) { return v.commit(ctx, ref, true) }) {
		v.markRetry(ref)
		info, _ := v.cfg.Journal.Ledger().Voucher(ref)
		v.report(VoucherResult{Reference: ref, Session: info.Session, Outcome: VoucherCommitPending, Amount: info.Amount})
	}
}

// Cancel rolls back the payment of a voucher the engine closed (Esc,
// timeout). An uncommitted payment moves no money, but it holds the code:
// the journal owes the rollback (journal.VoucherRollbacks) until it is
// done, so a rollback that fails, or never ran, is retried by the sweeps.
// Without a payment id (Esc while MyQ was asked) the sweep lists MyQ for it.
func (v *Vouchers) Cancel(ref, paymentID string) {
	if info, ok := v.cfg.Journal.Ledger().Voucher(ref); ok && (info.State == journal.VoucherOwed || info.State == journal.VoucherCommitted) {
		v.log.Error("vouchers: refused to roll back a confirmed voucher", "reference", ref, "state", info.State)
		return
	}
	if paymentID == "" {
		v.markRetry(ref)
		return
	}
	if !v.start(ref+"#cancel", func(ctx context.Context) (VoucherResult, bool) {
		rt, err := v.routeFor(ctx)
		if err != nil {
			v.log.Info("vouchers: rollback of a cancelled voucher not sent; retried", "reference", ref, "err", err)
			v.markRetry(ref)
			return VoucherResult{}, false
		}
		v.rollback(ctx, rt, ref, paymentID)
		return VoucherResult{}, false
	}) {
		v.markRetry(ref)
	}
}

// rollback rolls back a payment the student never confirmed and, once
// MyQ no longer holds it, journals the rollback the voucher owes (if it
// owes one); a transient failure leaves it to the sweeps.
func (v *Vouchers) rollback(ctx context.Context, rt api.VoucherRoute, ref, paymentID string) {
	if err := v.cfg.Client.RollbackVoucherPayment(ctx, rt, paymentID); err != nil {
		if api.IsTransient(err) {
			v.log.Info("vouchers: rollback failed; retried", "reference", ref, "payment", paymentID, "err", err)
			v.markRetry(ref)
			return
		}
		// Refused for good (already rolled back or expired; a v2 MyQ
		// without rollback): nothing more the kiosk can do.
		v.log.Warn("vouchers: MyQ refused the rollback", "reference", ref, "payment", paymentID, "err", err)
	}
	v.rolledBack(ref)
}

// rolledBack journals that a voucher's owed rollback is done.
func (v *Vouchers) rolledBack(ref string) {
	info, ok := v.cfg.Journal.Ledger().Voucher(ref)
	if !ok || !info.RollbackOwed {
		return
	}
	if err := v.append(journal.KindVoucherRolledBack, info.Session, journal.VoucherRef{Reference: ref}); err != nil {
		v.log.Warn("vouchers: rollback not journaled; retried", "reference", ref, "err", err)
		v.markRetry(ref)
		return
	}
	v.resolved(ref)
}

func (v *Vouchers) markRetry(ref string) {
	v.mu.Lock()
	v.retry[ref] = true
	v.mu.Unlock()
}

func (v *Vouchers) resolved(ref string) {
	v.mu.Lock()
	delete(v.retry, ref)
	v.mu.Unlock()
}

// match finds our payment by id, else by reference in the description.
func match(ps []api.Payment, ref, id string) (api.Payment, bool) {
	for _, p := range ps {
		if id != "" && p.ID == id {
			return p, true
		}
	}
	for _, p := range ps {
		if p.Description == ref {
			return p, true
		}
	}
	return api.Payment{}, false
}

// commit owes the money of a confirmed voucher. fresh: no commit of it was
// sent before (the fast path skips the listing). ok is false when nothing
// is known yet (retried later).
func (v *Vouchers) commit(ctx context.Context, ref string, fresh bool) (VoucherResult, bool) {
	info, known := v.cfg.Journal.Ledger().Voucher(ref)
	res := VoucherResult{Reference: ref, Session: info.Session, Amount: info.Amount}
	if !known || info.State != journal.VoucherOwed {
		v.resolved(ref)
		return res, false
	}
	pending := func(err error) (VoucherResult, bool) {
		v.markRetry(ref)
		res.Outcome, res.Err = VoucherCommitPending, err
		return res, true
	}
	rt, err := v.routeFor(ctx)
	if err != nil {
		return pending(err)
	}
	committed := func(amount api.Money, how string) (VoucherResult, bool) {
		if amount > 0 && int64(amount) != info.Amount {
			v.log.Warn("vouchers: MyQ committed another amount than it offered", "reference", ref, "offered", info.Amount, "committed", int64(amount))
			res.Amount = int64(amount)
		}
		if err := v.append(journal.KindVoucherCommitted, info.Session, journal.VoucherPayment{Reference: ref, PaymentID: info.PaymentID, Amount: res.Amount}); err != nil {
			return pending(err)
		}
		v.log.Info("vouchers: committed", "reference", ref, "payment", info.PaymentID, "amount", res.Amount, "how", how)
		v.resolved(ref)
		res.Outcome = VoucherCommitted
		return res, true
	}
	listed := false // the listing answered and does not show the payment committed
	if !fresh {
		ps, err := v.cfg.Client.ListVoucherPayments(ctx, rt, info.UserID)
		switch {
		case err == nil:
			p, ok := match(ps, ref, info.PaymentID)
			if ok && p.State == api.StateCommitted {
				return committed(p.Amount, "listed committed")
			}
			if ok && p.State == api.StateRolledBack {
				return v.closeOwed(res, "the payment was rolled back or expired before commit", "")
			}
			listed = ok
		case api.IsTransient(err):
			return pending(err)
		}
	}
	amt, err := v.cfg.Client.CommitVoucherPayment(ctx, rt, info.PaymentID)
	switch {
	case err == nil:
		return committed(amt, "commit")
	case api.IsTransient(err):
		return pending(err)
	case api.IsInvalidState(err) || api.IsVoucherUsed(err) || api.IsNotFound(err):
		// After a commit of ours that may have landed, "used" or "invalid
		// state" is most likely our own commit: the listing decides.
		ps, lerr := v.cfg.Client.ListVoucherPayments(ctx, rt, info.UserID)
		if lerr == nil {
			if p, ok := match(ps, ref, info.PaymentID); ok && p.State == api.StateCommitted {
				return committed(p.Amount, "listed committed after a refused commit")
			}
			if _, ok := match(ps, ref, info.PaymentID); ok || listed {
				return v.closeOwed(res, "MyQ refused the commit", api.VoucherMessage(err))
			}
		} else if api.IsTransient(lerr) {
			return pending(lerr)
		}
		if !fresh {
			// No listing to ask (v2-only MyQ) and a commit of ours may have
			// landed before: MyQ's refusal is our own commit.
			v.log.Warn("vouchers: commit refused after an earlier attempt and no listing: counted as committed", "reference", ref, "err", err)
			return committed(0, "inferred from the refusal of a repeated commit")
		}
		return v.closeOwed(res, "MyQ refused the commit", api.VoucherMessage(err))
	}
	v.log.Error("vouchers: commit refused; retried later", "reference", ref, "err", err)
	return pending(err)
}

// closeOwed journals that a confirmed voucher moved no money (MyQ refused
// its commit for good): the code stays redeemable, the student is told.
func (v *Vouchers) closeOwed(res VoucherResult, why, msg string) (VoucherResult, bool) {
	info, _ := v.cfg.Journal.Ledger().Voucher(res.Reference)
	if err := v.append(journal.KindVoucherClosed, info.Session, journal.VoucherClosed{Reference: res.Reference, Reason: "refused", Message: msg}); err != nil {
		v.markRetry(res.Reference)
		res.Outcome, res.Err = VoucherCommitPending, err
		return res, true
	}
	v.log.Warn("vouchers: confirmed voucher moved no money", "reference", res.Reference, "why", why, "myq", msg)
	v.resolved(res.Reference)
	res.Outcome, res.Message = VoucherRefused, msg
	return res, true
}

// resolve settles one voucher the journal holds open, by its state.
func (v *Vouchers) resolve(ctx context.Context, ref string) {
	info, ok := v.cfg.Journal.Ledger().Voucher(ref)
	if ok && info.RollbackOwed {
		v.resolveRollback(ctx, info)
		return
	}
	if !ok || info.State == journal.VoucherCommitted || info.State == journal.VoucherClosedSt {
		v.resolved(ref)
		return
	}
	if info.State == journal.VoucherOwed {
		if r, ok := v.commit(ctx, ref, false); ok && r.Outcome != VoucherCommitPending {
			v.report(r)
		}
		return
	}
	// Asked or offered by an earlier process (or a lost answer): the
	// student never confirmed it, so nothing may be committed: roll back
	// what MyQ holds and close it.
	rt, err := v.routeFor(ctx)
	if err != nil {
		return
	}
	id := info.PaymentID
	ps, err := v.cfg.Client.ListVoucherPayments(ctx, rt, info.UserID)
	switch {
	case err == nil:
		p, found := match(ps, ref, id)
		if found && p.State == api.StateCommitted {
			// Committed without a confirmation of ours cannot happen;
			// if MyQ says so, the money moved: record the truth.
			v.log.Error("vouchers: MyQ shows an unconfirmed voucher committed; recorded as committed", "reference", ref, "payment", p.ID)
			recs := []journal.Record{}
			if info.State == journal.VoucherAsked {
				recs = append(recs, journal.New(journal.KindVoucherCreated, info.Session, time.Now(), journal.VoucherPayment{Reference: ref, PaymentID: p.ID, Amount: int64(p.Amount)}))
			}
			recs = append(recs, journal.New(journal.KindVoucherCommitted, info.Session, time.Now(), journal.VoucherPayment{Reference: ref, PaymentID: p.ID, Amount: int64(p.Amount)}))
			if _, err := v.cfg.Journal.Append(recs...); err == nil {
				v.resolved(ref)
			}
			return
		}
		if found && p.State == api.StateOpen {
			id = p.ID
		} else if !found || p.State == api.StateRolledBack {
			id = ""
		}
	case api.IsTransient(err):
		return
	}
	if id != "" {
		if err := v.cfg.Client.RollbackVoucherPayment(ctx, rt, id); err != nil && api.IsTransient(err) {
			return
		}
	}
	if err := v.append(journal.KindVoucherClosed, info.Session, journal.VoucherClosed{Reference: ref, Reason: "rolled_back"}); err != nil {
		return
	}
	v.resolved(ref)
	v.report(VoucherResult{Reference: ref, Session: info.Session, Outcome: VoucherClosed})
}

// resolveRollback rolls back the payment of a voucher the kiosk closed
// before MyQ heard of it: found by id or reference in the listing (a create
// whose answer nobody journaled), or by the journaled id where MyQ lists
// no voucher payments (v2).
func (v *Vouchers) resolveRollback(ctx context.Context, info journal.VoucherInfo) {
	rt, err := v.routeFor(ctx)
	if err != nil {
		return
	}
	id := info.PaymentID
	ps, err := v.cfg.Client.ListVoucherPayments(ctx, rt, info.UserID)
	switch {
	case err == nil:
		p, found := match(ps, info.Reference, id)
		if found && p.State == api.StateCommitted {
			// Cannot happen without a confirmation; if MyQ says so, the
			// technician must know: the journal holds it closed.
			v.log.Error("vouchers: MyQ shows a cancelled voucher committed", "reference", info.Reference, "payment", p.ID)
			v.resolved(info.Reference)
			return
		}
		if !found || p.State != api.StateOpen {
			v.rolledBack(info.Reference)
			return
		}
		id = p.ID
	case api.IsTransient(err):
		return
	}
	if id == "" {
		v.rolledBack(info.Reference) // no listing and no id: nothing to roll back by
		return
	}
	v.rollback(ctx, rt, info.Reference, id)
}

// isVoucherRef reports a voucher's reference ("<kiosk>/<session>/v<n>"):
// cash booking never touches those payments, should MyQ list them with the
// cash provider's (whether it does is UNCERTAIN).
func isVoucherRef(desc string) bool {
	i := strings.LastIndexByte(desc, '/')
	if i < 0 || i+2 >= len(desc) || desc[i+1] != 'v' || strings.IndexByte(desc, '/') == i {
		return false
	}
	for _, c := range desc[i+2:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
