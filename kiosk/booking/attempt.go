package booking

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/printroom/voucherkiosk/api"
	"github.com/printroom/voucherkiosk/kiosk/journal"
)

// failKind says how a failed attempt is retried.
type failKind int

const (
	failNone failKind = iota
	// failGlobal: MyQ is unreachable, failing or refuses the kiosk's
	// credentials: the whole queue backs off and probes one at a time.
	failGlobal
	// failLocal: this session's attempt failed (journal write, malformed
	// answer): only it backs off.
	failLocal
	// failAttention: retrying will not help until someone fixes MyQ.
	failAttention
	// failShutdown: ctx ended; nothing is learned.
	failShutdown
)

func (k failKind) String() string {
	switch k {
	case failNone:
		return "none"
	case failGlobal:
		return "global"
	case failLocal:
		return "local"
	case failAttention:
		return "attention"
	case failShutdown:
		return "shutdown"
	}
	return fmt.Sprintf("failKind(%d)", int(k))
}

// outcome is what one attempt learned.
type outcome struct {
	committed bool
	amount    int64
	kind      failKind
	attention string
	err       error
	// again: the current payment turned out dropped; create again at once.
	again bool
	// accepted: MyQ accepted a find, create or commit for this session, so
	// an earlier attention reason no longer holds.
	accepted bool
	// yielded: MyQ answered, and the rest waits for the next slot (a
	// token-only probe, or a queued attempt that sent its two requests).
	yielded bool
}

// view copies an entry's state under the lock.
func (b *Booker) view(e *entry) entry {
	b.mu.Lock()
	defer b.mu.Unlock()
	return *e
}

// set changes an entry's booking state under the lock.
func (b *Booker) set(e *entry, f func(e *entry)) {
	b.mu.Lock()
	f(e)
	b.mu.Unlock()
}

func (b *Booker) append(kind journal.Kind, session string, data any) error {
	if _, err := b.cfg.Journal.Append(journal.New(kind, session, b.cfg.Now(), data)); err != nil {
		return fmt.Errorf("booking: journal %s for session %s: %w", kind, session, err)
	}
	return nil
}

func (b *Booker) apiErr(kind string) {
	if b.cfg.OnAPIError != nil {
		b.cfg.OnAPIError(kind)
	}
}

// attempt books e once (a pass, repeated at once if MyQ dropped its
// payment) and settles the outcome: journal attention, schedule, report.
func (b *Booker) attempt(ctx context.Context, e *entry) {
	if out, ok := b.probe(ctx, e); ok {
		b.settle(e, out)
		return
	}
	var out outcome
	accepted := false
	for pass := 0; ; pass++ {
		out = b.pass(ctx, e)
		accepted = accepted || out.accepted
		if !out.again {
			break
		}
		if pass == 2 {
			out = outcome{kind: failLocal, err: fmt.Errorf("booking: session %s: MyQ dropped its payment three times in a row", e.id)}
			break
		}
	}
	if out.kind != failShutdown && ctx.Err() != nil && !out.committed {
		out = outcome{kind: failShutdown, err: ctx.Err()}
	}
	if out.committed {
		// Before the balance query: the money is booked now.
		b.log.Info("booking: committed", "session", e.id, "reference", e.finish.Reference, "amount", api.Money(e.finish.Total).String())
		if b.cfg.OnCommitted != nil {
			b.cfg.OnCommitted(e.finish.Total)
		}
	}
	v := b.view(e)
	switch {
	case out.kind == failAttention && out.attention != v.attention:
		if err := b.append(journal.KindAttention, e.id, journal.Attention{Reason: out.attention}); err != nil {
			b.log.Error("booking: attention not journaled", "session", e.id, "err", err)
		}
		b.log.Warn("booking: session needs attention", "session", e.id, "reference", e.finish.Reference, "reason", out.attention, "err", out.err)
	case !out.committed && out.kind != failAttention && out.kind != failShutdown && accepted && v.attention != "":
		if err := b.append(journal.KindAttention, e.id, journal.Attention{}); err == nil {
			b.log.Info("booking: attention cleared", "session", e.id)
		} else {
			out.attention = v.attention // keep it: the journal still says so
		}
	}

	b.settle(e, out)
	// The new balance is a courtesy for the receipt: the result above went
	// out first, so "credited" never waits a round trip for it.
	if out.committed && (v.report || v.reportCommit) && v.userID > 0 && b.cfg.OnBalance != nil {
		bctx, cancel := context.WithTimeout(ctx, BalanceWait)
		m, known, err := b.cfg.Client.Balance(bctx, v.userID)
		cancel()
		if err == nil && known {
			b.cfg.OnBalance(e.id, int64(m))
		}
	}
}

// probe: while MyQ is failing on the token request, a queued attempt asks
// MyQ for a token alone. Booking with a fresh token costs three requests;
// after an outage every kiosk of a fleet would send those three in its
// first slot that finds MyQ back, and a second holding a few more slots
// than average went over MyQ's capacity. The token is the slot's request;
// if MyQ answers, the queue reopens and books from the next slot, two
// requests a slot. ok is false when the attempt books as usual.
func (b *Booker) probe(ctx context.Context, e *entry) (out outcome, ok bool) {
	b.mu.Lock()
	ok = b.failures > 0 && b.noToken && !e.fresh
	b.mu.Unlock()
	if !ok {
		return out, false
	}
	if _, err := b.cfg.Client.Token(ctx); err != nil {
		return b.failure(ctx, "get a token", 0, "", err), true
	}
	return outcome{yielded: true}, true
}

// settle applies an outcome to the schedule and reports it.
func (b *Booker) settle(e *entry, out outcome) {
	now := b.cfg.Now()
	b.mu.Lock()
	e.inflight, e.endedAt = false, now
	b.inflight--
	fresh := e.fresh
	e.fresh = false
	wasFailing := b.failures > 0
	var res *Result
	reopen := false // MyQ answered: open the gate and wake the queue
	switch {
	case out.committed:
		e.done = true
		b.ndone++
		delete(b.entries, e.id)
		b.setAttentionLocked(e, "")
		b.online, b.lastErr = true, ""
		reopen = true
		if e.report || e.reportCommit {
			res = &Result{SessionID: e.id, Reference: e.finish.Reference, Committed: true}
		}
		e.report, e.reportCommit = false, false
	case out.kind == failShutdown:
		e.nextAt = now
		e.fresh = fresh
	case out.yielded:
		b.online, b.lastErr = true, ""
		reopen = true
	case out.kind == failAttention:
		e.attempts++
		e.lastErr = errText(out.err, out.attention)
		b.lastErr = e.lastErr
		b.setAttentionLocked(e, out.attention)
		half := b.cfg.AttentionBackoff / 2
		e.nextAt = now.Add(half + b.cfg.Jitter(half))
		b.online = true
		reopen = true
	case out.kind == failGlobal:
		e.attempts++
		e.lastErr = errText(out.err, "")
		b.lastErr = e.lastErr
		b.online = api.IsAuth(out.err) // it answered, with a refusal
		b.failures++
		b.noToken = tokenFailed(out.err)
		// Never before MyQ's Retry-After. With slots at least MinBackoff
		// apart the probe goes on the kiosk's next slot: the phases spread
		// the fleet's probes evenly, and a kiosk finds MyQ back within a
		// slot. Shorter slots (a small site draining fast) keep the
		// backoff, whose jitter keeps kiosks told the same wait apart.
		wait := api.RetryAfter(out.err) + time.Nanosecond
		if b.cfg.DrainSpacing < b.cfg.MinBackoff {
			wait += b.backoffLocked(b.failures)
		}
		b.gateAt = slotAtOrAfter(now.Add(wait), b.cfg.DrainSpacing, b.phase)
		if e.attention == "" || e.nextAt.Before(b.gateAt) {
			e.nextAt = b.gateAt
		}
	default: // failLocal
		e.attempts++
		e.lastErr = errText(out.err, "")
		b.lastErr = e.lastErr
		e.nextAt = now.Add(b.backoffLocked(e.attempts))
	}
	if out.kind != failShutdown && out.kind != failNone || out.committed {
		if e.report && !out.committed {
			res = &Result{SessionID: e.id, Reference: e.finish.Reference, Queued: true, Attention: e.attention, Err: out.err}
			e.report, e.reportCommit = false, true
		}
	}
	if reopen && wasFailing {
		// MyQ answers again: everything that waited for it is due now (the
		// in-flight limit still spaces the requests).
		b.failures, b.gateAt = 0, now
		for _, x := range b.order {
			if !x.done && !x.inflight && x.attention == "" {
				x.nextAt, x.attempts = now, 0
			}
		}
	}
	st := b.statusLocked()
	b.mu.Unlock()

	if out.kind == failGlobal || out.kind == failLocal {
		b.log.Info("booking: attempt failed, session stays queued", "session", e.id, "kind", out.kind, "err", out.err)
	}
	if res != nil && b.cfg.OnResult != nil {
		b.cfg.OnResult(*res)
	}
	b.emitStatus(st)
}

func errText(err error, fallback string) string {
	if err == nil {
		return fallback
	}
	return err.Error()
}

// definite reports an error whose request certainly changed nothing: MyQ
// answered 4xx, the client refused to send it, or it had no token to send
// it with (the api client asks for a token before it sends a call, and
// after a 401, which MyQ refused).
func definite(err error) bool {
	if errors.Is(err, api.ErrInvalidArgument) || tokenFailed(err) {
		return true
	}
	var ae *api.Error
	return errors.As(err, &ae) && ae.Status >= 400 && ae.Status < 500
}

// tokenFailed reports an error of the token request.
func tokenFailed(err error) bool {
	var ae *api.Error
	return errors.As(err, &ae) && ae.Op == "token"
}

// pass is one run through the booking steps: resolve the user, settle any
// ambiguity by listing, create, commit.
func (b *Booker) pass(ctx context.Context, e *entry) outcome {
	v := b.view(e)
	ref, amount := e.finish.Reference, api.Money(e.finish.Total)
	accepted := false
	// A queued attempt sends at most two requests in its slot, the pace's
	// budget (pace.go): a session that must also find its user or list its
	// payments goes on in the next slot from what it journaled.
	sent := 0
	full := func() bool { return !v.fresh && b.cfg.DrainSpacing > 0 && sent >= 2 }

	if !v.checked {
		why := b.checkCredits(e)
		b.set(e, func(e *entry) { e.checked, e.invalid = true, why })
		v.invalid = why
	}
	if v.invalid != "" {
		return outcome{kind: failAttention, err: errors.New(v.invalid), attention: v.invalid}
	}

	if v.verify && v.userID != 0 {
		// Opened from the card cache: the card may have changed owner (or
		// been unregistered) since MyQ last said whose it was.
		card := e.finish.Card
		sent++
		u, err := b.cfg.Client.FindUserByCard(ctx, card)
		switch {
		case errors.Is(err, api.ErrUserNotFound):
			return outcome{kind: failAttention, err: err, attention: fmt.Sprintf(
				"card %s was opened offline for user %d (%s) from the card cache, but MyQ no longer knows the card: booked to nobody; check who inserted the money, book reference %s by hand, then tell the kiosk's maintainer",
				maskCard(card), v.userID, e.finish.FullName, ref)}
		case err != nil:
			return b.failure(ctx, "find user by card", v.userID, card, err)
		case u.ID != v.userID:
			return outcome{kind: failAttention, attention: fmt.Sprintf(
				"card %s was opened offline for user %d (%s) from the card cache, but MyQ now gives the card to user %d (%s): booked to neither; check who inserted the money, book reference %s by hand, then tell the kiosk's maintainer",
				maskCard(card), v.userID, e.finish.FullName, u.ID, u.Username, ref)}
		}
		accepted = true
		if err := b.append(journal.KindUserResolved, e.id, journal.UserResolved{UserID: u.ID, Username: u.Username, FullName: u.FullName}); err != nil {
			return outcome{kind: failLocal, err: err, accepted: accepted}
		}
		b.set(e, func(e *entry) { e.verify = false })
	}

	if v.userID == 0 {
		card := e.finish.Card
		if card == "" {
			return outcome{kind: failAttention, attention: "the session has neither a user nor a card number: it cannot be booked automatically; book reference " + ref + " by hand in MyQ and tell the kiosk's maintainer"}
		}
		sent++
		u, err := b.cfg.Client.FindUserByCard(ctx, card)
		if err != nil {
			return b.failure(ctx, "find user by card", v.userID, card, err)
		}
		accepted = true
		if err := b.append(journal.KindUserResolved, e.id, journal.UserResolved{UserID: u.ID, Username: u.Username, FullName: u.FullName}); err != nil {
			return outcome{kind: failLocal, err: err, accepted: accepted}
		}
		b.set(e, func(e *entry) { e.userID = u.ID })
		v.userID = u.ID
	}

	if v.createMaybeSent || v.commitTried {
		if full() {
			return outcome{yielded: true, accepted: accepted}
		}
		sent++
		committed, err := b.reconcile(ctx, e)
		if err != nil {
			return b.failure(ctx, "list payments", v.userID, "", err)
		}
		if committed {
			return outcome{committed: true, amount: e.finish.Total}
		}
		v = b.view(e)
	}

	if v.paymentID == "" {
		if full() {
			return outcome{yielded: true, accepted: accepted}
		}
		sent++
		p, err := b.cfg.Client.CreatePayment(ctx, v.userID, ref, amount)
		if err != nil {
			if !definite(err) {
				b.set(e, func(e *entry) { e.createMaybeSent = true })
			}
			o := b.failure(ctx, "create payment", v.userID, "", err)
			o.accepted = o.accepted || accepted
			return o
		}
		accepted = true
		if err := b.append(journal.KindPaymentCreated, e.id, journal.PaymentCreated{PaymentID: p.ID, UserID: v.userID}); err != nil {
			b.set(e, func(e *entry) { e.createMaybeSent = true })
			return outcome{kind: failLocal, err: err, accepted: accepted}
		}
		b.set(e, func(e *entry) { e.paymentID, e.createMaybeSent, e.commitTried = p.ID, false, false })
		v.paymentID = p.ID
	}

	if full() {
		return outcome{yielded: true, accepted: accepted}
	}
	b.set(e, func(e *entry) { e.commitTried = true })
	got, err := b.cfg.Client.CommitPayment(ctx, v.paymentID)
	if err != nil {
		if api.IsInvalidState(err) || api.IsNotFound(err) {
			// Only the listing says whether it is committed (ours, by an
			// earlier commit whose answer was lost), dropped, or stuck.
			committed, lerr := b.reconcile(ctx, e)
			if lerr != nil {
				return b.failure(ctx, "list payments", v.userID, "", lerr)
			}
			if committed {
				return outcome{committed: true, amount: e.finish.Total}
			}
			if b.view(e).paymentID == "" {
				return outcome{again: true, accepted: accepted}
			}
		} else if definite(err) {
			b.set(e, func(e *entry) { e.commitTried = false })
		}
		o := b.failure(ctx, "commit payment "+v.paymentID, v.userID, "", err)
		o.accepted = o.accepted || accepted
		return o
	}
	if got != 0 && got != amount {
		b.log.Error("booking: MyQ committed another amount than asked", "session", e.id, "payment", v.paymentID, "asked", amount.String(), "committed", got.String())
	}
	if err := b.append(journal.KindCommitted, e.id, journal.Committed{PaymentID: v.paymentID}); err != nil {
		// commitTried stays set: the next attempt lists and journals it.
		return outcome{kind: failLocal, err: err, accepted: true}
	}
	return outcome{committed: true, amount: e.finish.Total}
}

// unknownStateError: MyQ lists a payment of ours in a state word the kiosk
// does not know (api.StateUnknown).
type unknownStateError struct {
	paymentID, word string
	seen            int // consecutive listings that showed it
}

func (e *unknownStateError) Error() string {
	return fmt.Sprintf("MyQ lists payment %s in the unknown state %q", e.paymentID, e.word)
}

// missingPaymentError: a payment we sent a commit for is not in MyQ's list.
type missingPaymentError struct{ paymentID string }

func (e *missingPaymentError) Error() string {
	return fmt.Sprintf("payment %s, which the kiosk sent a commit for, is not in MyQ's list", e.paymentID)
}

// checkCredits checks what the journal says the session holds against the
// configuration: each credit's amount is its configured value, and the
// total is within max_topup. It returns why not, "" when it holds.
func (b *Booker) checkCredits(e *entry) string {
	ref := e.finish.Reference
	if b.cfg.MaxTopup > 0 && e.finish.Total > b.cfg.MaxTopup {
		return fmt.Sprintf("the journal says session %s holds %s, more than max_topup %s: it is not booked; compare the cash box with the journal, then book reference %s by hand", e.id, api.Money(e.finish.Total), api.Money(b.cfg.MaxTopup), ref)
	}
	if b.cfg.Values == nil {
		return ""
	}
	info, ok := b.cfg.Journal.Session(e.id)
	if !ok {
		return ""
	}
	for _, c := range info.Credits {
		want, known := b.cfg.Values[c.Device+":"+c.Key]
		if !known || want != c.Amount {
			return fmt.Sprintf("the journal says session %s took %s from %s key %q, which the configuration values at %s: it is not booked; compare the cash box with the journal, then book reference %s by hand", e.id, api.Money(c.Amount), c.Device, c.Key, valueText(want, known), ref)
		}
	}
	return ""
}

func valueText(v int64, known bool) string {
	if !known {
		return "nothing (no such key)"
	}
	return api.Money(v).String()
}

// failure classifies a MyQ error into how the session is retried, with the
// reason a technician reads when it needs attention.
func (b *Booker) failure(ctx context.Context, op string, userID int64, card string, err error) outcome {
	switch {
	case ctx.Err() != nil:
		return outcome{kind: failShutdown, err: err}
	case errors.Is(err, api.ErrUserNotFound):
		b.apiErr("user_not_found")
		return outcome{kind: failAttention, err: err, attention: fmt.Sprintf(
			"card %s is not registered in MyQ: add the card to the student's account in MyQ (Users), then flush the queue", maskCard(card))}
	case api.IsProviderDisabled(err):
		b.apiErr("provider_disabled")
		return outcome{kind: failAttention, err: err, attention: "MyQ refuses payments because External Payment Providers is disabled: enable it in MyQ Settings > Credit, then flush the queue"}
	case api.IsForbidden(err):
		b.apiErr("forbidden")
		return outcome{kind: failAttention, err: err, attention: fmt.Sprintf(
			"MyQ denied the kiosk access (403) to %s: give the kiosk's REST API application the scopes \"credit users\" and the rights \"Manage users\" and \"Manage payments\" (MyQ Settings > Connections > REST API applications), then flush the queue", op)}
	case api.IsAuth(err):
		b.apiErr("auth")
		return outcome{kind: failGlobal, err: fmt.Errorf("MyQ rejects the kiosk's client id or secret (401): check [myq] client_id and client_secret_file: %w", err)}
	case api.IsTransient(err):
		b.apiErr("transient")
		return outcome{kind: failGlobal, err: err}
	case api.IsNotFound(err):
		b.apiErr("refused")
		return outcome{kind: failAttention, err: err, attention: fmt.Sprintf(
			"MyQ answered 404 to %s for user %d: the user was probably deleted in MyQ; restore the account, then flush the queue (the money stays queued)", op, userID)}
	case api.IsInvalidState(err):
		b.apiErr("refused")
		return outcome{kind: failAttention, err: err, attention: fmt.Sprintf(
			"MyQ refuses to %s although it lists the payment as open (%s): check the payment in MyQ; the kiosk keeps retrying slowly", op, msgOf(err))}
	case api.IsPermanent(err):
		b.apiErr("refused")
		return outcome{kind: failAttention, err: err, attention: fmt.Sprintf(
			"MyQ refused to %s for user %d (%s): check the user and the payment provider in MyQ, then flush the queue", op, userID, msgOf(err))}
	case errors.As(err, new(*missingPaymentError)):
		var me *missingPaymentError
		errors.As(err, &me)
		return outcome{kind: failAttention, err: err, attention: fmt.Sprintf(
			"payment %s was sent a commit but MyQ does not list it: it may be committed; it is not created again. Check the user's payments in MyQ: if it is committed, nothing is owed; otherwise book the reference by hand, then tell the kiosk's maintainer", me.paymentID)}
	case errors.As(err, new(*unknownStateError)):
		var ue *unknownStateError
		errors.As(err, &ue)
		if ue.seen < 2 {
			return outcome{kind: failLocal, err: err} // it may be a passing state: look again soon
		}
		return outcome{kind: failAttention, err: err, attention: fmt.Sprintf(
			"MyQ lists payment %s of this session in the state %q, which the kiosk does not know: it is not counted as committed and no other payment is created; check the payment in MyQ (commit it by hand if it moved no money), then flush the queue", ue.paymentID, ue.word)}
	case errors.Is(err, api.ErrMalformed) || errors.Is(err, api.ErrResponseTooLarge):
		b.apiErr("malformed")
		return outcome{kind: failLocal, err: err}
	}
	b.apiErr("other")
	return outcome{kind: failLocal, err: err}
}

func msgOf(err error) string {
	var ae *api.Error
	if errors.As(err, &ae) && ae.Message != "" {
		if ae.Status != 0 {
			return fmt.Sprintf("HTTP %d: %s", ae.Status, ae.Message)
		}
		return ae.Message
	}
	return err.Error()
}

// reconcile lists the user's payments and brings the journal in line with
// what MyQ did (DESIGN step 7): a payment of ours already committed is
// journaled as committed; the current payment rolled back, expired or gone
// is journaled as dropped; with no current payment, an open one carrying our
// reference is adopted; other open payments of ours are rolled back.
// Ours means: the description is our reference, or the id is the one we
// journaled (for MyQ versions that drop descriptions from listings).
func (b *Booker) reconcile(ctx context.Context, e *entry) (committed bool, err error) {
	v := b.view(e)
	listed := b.cfg.Now()
	ps, err := b.cfg.Client.ListPayments(ctx, v.userID)
	if err != nil {
		return false, err
	}
	b.shareListing(e, v.userID, ps, listed)
	ref, amount := e.finish.Reference, api.Money(e.finish.Total)
	// A reference alone does not make a payment ours (a wiped state
	// directory or a repeated reference could name another's): the user and
	// the amount must match too. The id we journaled from MyQ's own answer
	// is ours by itself.
	ours := func(p api.Payment) bool {
		return (p.Description != "" && p.Description == ref && p.Amount == amount && (p.UserID == 0 || p.UserID == v.userID)) ||
			(v.paymentID != "" && p.ID == v.paymentID)
	}

	for _, p := range ps {
		if !ours(p) || p.State != api.StateCommitted {
			continue
		}
		if p.Amount != amount {
			b.log.Error("booking: our reference is committed with another amount", "session", e.id, "payment", p.ID, "finished", amount.String(), "committed", p.Amount.String())
		}
		if err := b.append(journal.KindCommitted, e.id, journal.Committed{PaymentID: p.ID}); err != nil {
			return false, err
		}
		b.log.Info("booking: payment found committed by an earlier attempt", "session", e.id, "payment", p.ID)
		b.set(e, func(e *entry) { e.paymentID, e.commitTried = p.ID, false })
		return true, nil
	}

	// A payment of ours in a state word the kiosk does not know may be
	// committed or not: neither journal it as booked nor create another.
	for _, p := range ps {
		if ours(p) && p.State == api.StateUnknown {
			var seen int
			b.set(e, func(e *entry) { e.unknownSeen++; seen = e.unknownSeen })
			return false, &unknownStateError{paymentID: p.ID, word: p.RawState, seen: seen}
		}
	}
	b.set(e, func(e *entry) { e.unknownSeen = 0 })

	cur := v.paymentID
	if cur != "" {
		idx := -1
		for i := range ps {
			if ps[i].ID == cur {
				idx = i
			}
		}
		if idx < 0 && v.commitTried {
			// A listing may be incomplete (paged, or a MyQ that drops
			// entries): absence proves nothing, and a commit of this
			// payment may have happened. Creating it again could credit
			// the student twice.
			return false, &missingPaymentError{paymentID: cur}
		}
		if idx < 0 || ps[idx].State == api.StateRolledBack {
			why := "vanished from MyQ's list"
			if idx >= 0 {
				why = "rolled back or expired (" + ps[idx].RawState + ")"
			}
			if err := b.append(journal.KindPaymentDropped, e.id, journal.PaymentCreated{PaymentID: cur, UserID: v.userID}); err != nil {
				return false, err
			}
			b.log.Warn("booking: payment dropped before commit; creating it again", "session", e.id, "payment", cur, "why", why)
			b.set(e, func(e *entry) { e.paymentID, e.commitTried = "", false })
			cur = ""
		} else {
			// Listed open: no commit of it happened, committing is safe.
			b.set(e, func(e *entry) { e.commitTried = false })
		}
	}
	if cur == "" {
		for _, p := range ps {
			if ours(p) && p.State == api.StateOpen {
				if err := b.append(journal.KindPaymentCreated, e.id, journal.PaymentCreated{PaymentID: p.ID, UserID: v.userID}); err != nil {
					return false, err
				}
				b.log.Info("booking: adopted the payment of an earlier create", "session", e.id, "payment", p.ID)
				b.set(e, func(e *entry) { e.paymentID, e.commitTried = p.ID, false })
				cur = p.ID
				break
			}
		}
	}
	b.set(e, func(e *entry) { e.createMaybeSent = false })
	b.rollbackOrphans(ctx, ps, e, cur, v.paymentID)
	return false, nil
}

// rollbackOrphans rolls back the open payments this session abandoned: its
// own (same reference, user and amount, or the id it journaled) other than
// keep, read from the listing this attempt just made. Only this session
// commits its payments, and it is running here, so none of them can commit
// behind the listing's back. Other sessions' payments are never touched: a
// listing is stale the moment it is read, and one of them may have
// committed since (or be journaled committed already). A session that
// committed does not roll back either. Best effort: an open orphan moves no
// money.
func (b *Booker) rollbackOrphans(ctx context.Context, ps []api.Payment, e *entry, keep, known string) {
	v := b.view(e)
	ref, amount := e.finish.Reference, api.Money(e.finish.Total)
	for _, p := range ps {
		if p.State != api.StateOpen || p.ID == keep {
			continue
		}
		mine := (p.Description != "" && p.Description == ref && p.Amount == amount && (p.UserID == 0 || p.UserID == v.userID)) ||
			(known != "" && p.ID == known)
		if !mine {
			continue
		}
		if err := b.cfg.Client.RollbackPayment(ctx, p.ID); err != nil {
			b.log.Info("booking: orphan payment not rolled back (it moves no money)", "payment", p.ID, "err", err)
			continue
		}
		b.log.Info("booking: orphan payment rolled back", "payment", p.ID, "reference", p.Description)
	}
}

// shareListing spares the user's other queued sessions a listing of their
// own (after a restart or an outage every session must list before it
// creates): a session with no payment, idle since before the listing was
// asked for, of which the listing shows nothing (no payment carrying its
// reference) cannot have an earlier create to adopt: every request of its
// earlier attempts had ended before the listing was asked for. Sessions the listing
// does show something for keep their flag and list themselves.
func (b *Booker) shareListing(self *entry, userID int64, ps []api.Payment, listed time.Time) {
	refs := make(map[string]bool, len(ps))
	for _, p := range ps {
		if p.Description != "" {
			refs[p.Description] = true
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, x := range b.order {
		if x == self || x.done || x.inflight || x.userID != userID || !x.createMaybeSent ||
			x.paymentID != "" || x.commitTried || !x.endedAt.Before(listed) || refs[x.finish.Reference] {
			continue
		}
		x.createMaybeSent = false
	}
}
