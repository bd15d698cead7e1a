package booking

// Vouchers in the compound-fault histories (issue 17, "Proof"): students
// scan fresh, used, expired, unknown and malformed codes, rescan codes they
// cancelled, confirm or cancel offers, while MyQ loses create and commit
// answers, goes down, and the kiosk is killed or loses power between any two
// voucher steps. Each history picks one voucher form (v2, or v3 with its
// code parameter learned from the provider list). booking.Vouchers runs as
// the daemon runs it, minus the goroutine timing: every operation it starts
// is waited for, and Run's sweeps happen at the history's booking rounds.
// The runner's part (carrying the engine's voucher commands to booking and
// booking's answers back) is played with delays: a command or an answer may
// wait a few steps, and a restart loses whatever was waiting.

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/printroom/voucherkiosk/api"
	"github.com/printroom/voucherkiosk/api/myqfake"
	"github.com/printroom/voucherkiosk/devices"
	"github.com/printroom/voucherkiosk/kiosk"
	"github.com/printroom/voucherkiosk/kiosk/journal"
)

// voucherWorld is the vouchers' part of a history.
type voucherWorld struct {
	form  api.VoucherAPI
	v2    bool // MyQ redeems through the v2 routes
	label string
	v     *Vouchers

	mu      sync.Mutex
	results []VoucherResult // OnResult's, not yet taken by the runner

	cmds    []kiosk.Command       // the engine's voucher commands not yet carried out
	answers []kiosk.VoucherResult // booking's answers not yet handed to the engine

	fresh     []string         // printed codes nobody scanned yet
	scanned   []string         // codes scanned before, for rescans
	value     map[string]int64 // code -> printed value
	code      map[string]string
	user      map[string]int64 // reference -> the student who tapped the card of the session that scanned it
	confirmed map[string]bool  // references whose Enter the engine journaled
	cancelled map[string]bool  // references the engine closed (Esc, an offer left alone, a late offer)
	offered   map[string]int64 // references MyQ offered, with the amount
	down      bool             // MyQ is down
	redeems   int
}

const (
	cfUsedCode    = "USED-0001"
	cfUnknownCode = "NOPE-0001"
)

func (h *history) setupVouchers() {
	w := &voucherWorld{value: map[string]int64{}, code: map[string]string{}, user: map[string]int64{},
		confirmed: map[string]bool{}, cancelled: map[string]bool{}, offered: map[string]int64{}}
	switch h.rng.IntN(4) {
	case 0:
		w.form, w.label, w.v2 = api.VoucherV2, "v2", true
		h.fake.SetVoucherV3("")
	case 1:
		w.form, w.label, w.v2 = api.VoucherAuto, "auto: v2 (no v3 provider)", true
		h.fake.SetVoucherV3("")
	case 2:
		w.form, w.label = api.VoucherAuto, "auto: v3, parameter "+myqfake.DefaultVoucherParam
	default:
		w.form, w.label = api.VoucherV3, "v3, parameter voucherCode learned"
		h.fake.SetVoucherV3("voucherCode")
	}
	val := []int64{200, 500, 1000}[h.rng.IntN(3)]
	batch := myqfake.VoucherBatch("CF", 12, api.Money(val), time.Time{})
	for _, v := range batch {
		w.fresh = append(w.fresh, v.Code)
		w.value[v.Code] = val
	}
	old := myqfake.VoucherBatch("OLD", 3, 500, time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC))
	for _, v := range old {
		w.value[v.Code] = 500
	}
	h.fake.AddVouchers(batch...)
	h.fake.AddVouchers(old...)
	h.fake.AddVouchers(myqfake.Voucher{Code: cfUsedCode, Value: 500, Used: true})
	w.value[cfUsedCode] = 500
	h.vw = w
	h.logf("vouchers: %s, value %d", w.label, val)
}

// startVouchers builds booking.Vouchers on the journal just opened and does
// what Run does first: resolve every voucher the journal left open.
func (h *history) startVouchers() error {
	w := h.vw
	w.cmds, w.answers, w.results = nil, nil, nil
	v, err := NewVouchers(VoucherConfig{Client: h.client, Journal: h.j, Log: slog.New(slog.DiscardHandler), Form: w.form,
		OnResult: func(r VoucherResult) {
			w.mu.Lock()
			w.results = append(w.results, r)
			w.mu.Unlock()
		}})
	if err != nil {
		return err
	}
	// Run's state, without its ticker and its scheduling: the history
	// sweeps at its booking rounds and waits for each operation.
	v.running, v.ctx, v.wg = true, context.Background(), &sync.WaitGroup{}
	w.v = v
	return h.voucherSweep()
}

// voucherSweep is one of Run's sweeps.
func (h *history) voucherSweep() error {
	h.vw.v.sweep(context.Background())
	return h.voucherTake("")
}

// voucherTake waits for booking's operations and queues their answers for
// the engine; a redeem asked while MyQ was down must have taken nothing.
func (h *history) voucherTake(downRef string) error {
	w := h.vw
	w.v.wg.Wait()
	w.mu.Lock()
	rs := w.results
	w.results = nil
	w.mu.Unlock()
	for _, r := range rs {
		h.logf("  voucher %s: %v amount %d %s", r.Reference, r.Outcome, r.Amount, r.Message)
		if r.Reference == downRef && r.Outcome != VoucherOffline {
			return fmt.Errorf("voucher %s redeemed while MyQ was down: outcome %v, want offline", r.Reference, r.Outcome)
		}
		if r.Outcome == VoucherOffered {
			w.offered[r.Reference] = r.Amount
		}
		w.answers = append(w.answers, kioskVoucherResult(r))
	}
	return nil
}

// kioskVoucherResult is voucherlink.Result (which this package's tests
// cannot import: it imports booking).
func kioskVoucherResult(r VoucherResult) kiosk.VoucherResult {
	out := kiosk.VoucherResult{Reference: r.Reference, Amount: r.Amount, Message: r.Message, Used: r.Used, PaymentID: r.PaymentID}
	out.Outcome = map[VoucherOutcome]kiosk.VoucherOutcome{
		VoucherOffered: kiosk.VoucherOutcomeOffered, VoucherRefused: kiosk.VoucherOutcomeRefused,
		VoucherOffline: kiosk.VoucherOutcomeOffline, VoucherFailed: kiosk.VoucherOutcomeFailed,
		VoucherCommitted: kiosk.VoucherOutcomeCommitted, VoucherCommitPending: kiosk.VoucherOutcomeCommitPending,
	}[r.Outcome]
	if out.Outcome == 0 {
		out.Outcome = kiosk.VoucherOutcomeClosed
	}
	return out
}

// voucherCommand is the runner receiving one of the engine's voucher
// commands: carried out now, or a little later.
func (h *history) voucherCommand(c kiosk.Command) error {
	w := h.vw
	switch c := c.(type) {
	case kiosk.RedeemVoucher:
		tap, ok := h.sessTap[c.SessionID]
		if !ok {
			return fmt.Errorf("voucher %s asked in session %s, which no card lookup opened", c.Reference, c.SessionID)
		}
		if c.User.ID != tap {
			return fmt.Errorf("voucher %s asked for user %d, but user %d tapped the card", c.Reference, c.User.ID, tap)
		}
		w.code[c.Reference], w.user[c.Reference] = c.Code, tap
	case kiosk.CommitVoucher:
		w.confirmed[c.Reference] = true
	case kiosk.CancelVoucher:
		w.cancelled[c.Reference] = true
	}
	w.cmds = append(w.cmds, c)
	if h.rng.IntN(4) == 0 {
		return nil // the runner is busy: it waits
	}
	return h.voucherPump(false)
}

// voucherPump carries out the waiting commands and hands the engine the
// waiting answers (all of them, or by chance some).
func (h *history) voucherPump(all bool) error {
	w := h.vw
	for len(w.cmds) > 0 {
		c := w.cmds[0]
		w.cmds = w.cmds[1:]
		down := ""
		switch c := c.(type) {
		case kiosk.RedeemVoucher:
			w.redeems++
			if w.down {
				down = c.Reference
			}
			h.logf("  redeem %s (MyQ down %v)", c.Reference, w.down)
			w.v.Redeem(VoucherRequest{Reference: c.Reference, Session: c.SessionID,
				User: api.User{ID: c.User.ID, Username: c.User.Username, FullName: c.User.FullName}, Code: c.Code})
		case kiosk.CommitVoucher:
			h.logf("  commit %s", c.Reference)
			w.v.Commit(c.Reference)
		case kiosk.CancelVoucher:
			h.logf("  cancel %s payment %q", c.Reference, c.PaymentID)
			w.v.Cancel(c.Reference, c.PaymentID)
		}
		if err := h.voucherTake(down); err != nil {
			return err
		}
	}
	for len(w.answers) > 0 && (all || h.rng.IntN(4) > 0) {
		a := w.answers[0]
		w.answers = w.answers[1:]
		if err := h.handle(a); err != nil {
			return err
		}
	}
	return nil
}

// voucherStep is one random voucher event of the history.
func (h *history) voucherStep(i int) error {
	w := h.vw
	r := h.rng.IntN(100)
	switch {
	case r < 50: // a code is scanned (by a student who taps their card first when no session is open)
		if h.eng.State().Phase != kiosk.PhaseSession {
			u := 1 + h.rng.IntN(compoundUsers)
			card := compoundCard(u)
			if h.owner[card] == 0 {
				return nil
			}
			h.lastTap[card] = h.owner[card]
			h.logf("step %d: user %d taps %s to scan a voucher", i, h.owner[card], card)
			if err := h.handle(devices.CardRead{Device: "card", Number: card}); err != nil {
				return err
			}
		}
		code := h.pickCode()
		h.logf("step %d: scan %q (phase %v)", i, code, h.eng.State().Phase)
		return h.handle(kiosk.VoucherCode{Code: code, Source: "scanner"})
	case r < 70: // Enter or Esc on the offer
		k := kiosk.KeyEnter
		if h.rng.IntN(4) == 0 {
			k = kiosk.KeyEsc
		}
		h.logf("step %d: key %v (voucher %+v)", i, k, h.eng.State().Voucher)
		return h.handle(kiosk.KeyPress{Key: k})
	case r < 85: // MyQ loses a voucher answer
		create, commit := myqfake.RouteCreate, myqfake.RouteCommit
		if w.v2 {
			create, commit = myqfake.RouteVoucherCreate, myqfake.RouteVoucherCommit
		}
		if h.rng.IntN(2) == 0 {
			h.fake.DropAnswer(create, 1)
			h.logf("step %d: the next voucher create answer is lost", i)
		} else {
			h.fake.DropAnswer(commit, 1)
			h.logf("step %d: the next voucher commit answer is lost", i)
		}
	case r < 90: // the runner catches up
		return h.voucherPump(true)
	default: // power cut a few operations into a voucher step
		h.crashArm = true
		h.fs.CrashAfter(h.rng.IntN(6))
		h.logf("step %d: power cut armed, voucher step", i)
		var err error
		if h.rng.IntN(2) == 0 {
			err = h.handle(kiosk.VoucherCode{Code: h.pickCode(), Source: "scanner"})
		} else {
			err = h.handle(kiosk.KeyPress{Key: kiosk.KeyEnter})
		}
		if err == nil {
			err = h.voucherPump(true)
		}
		if err != nil {
			return err
		}
		return h.restart(true)
	}
	return nil
}

func (h *history) pickCode() string {
	w := h.vw
	r := h.rng.IntN(100)
	switch {
	case r < 45 && len(w.fresh) > 0:
		c := w.fresh[0]
		w.fresh = w.fresh[1:]
		w.scanned = append(w.scanned, c)
		return c
	case r < 60 && len(w.scanned) > 0: // again: cancelled, used, or still reserved
		return w.scanned[h.rng.IntN(len(w.scanned))]
	case r < 72:
		return cfUsedCode
	case r < 84:
		return fmt.Sprintf("OLD-%04d", 1+h.rng.IntN(3))
	case r < 96:
		return cfUnknownCode
	default:
		return "ab" // not a code: refused before MyQ is asked
	}
}

// settleVouchers ends the voucher side: MyQ healthy, the runner catches
// up, Run sweeps until nothing is left to resolve.
func (h *history) settleVouchers() error {
	for range 3 {
		if err := h.voucherPump(true); err != nil {
			return err
		}
		if err := h.voucherSweep(); err != nil {
			return err
		}
	}
	return h.voucherPump(true)
}

// checkVouchers holds the vouchers against the world's truth.
func (h *history) checkVouchers() error {
	w := h.vw
	l := h.j.Ledger()
	byRef := map[string]myqfake.Commit{}
	codes := map[string]bool{}
	var myq int64
	for _, c := range h.fake.Ledger() {
		if c.Voucher == "" {
			continue
		}
		ref := c.Description
		// Each code is committed at most once...
		if codes[c.Voucher] {
			return fmt.Errorf("voucher code %s committed twice", journal.MaskVoucher(c.Voucher))
		}
		codes[c.Voucher] = true
		if _, dup := byRef[ref]; dup {
			return fmt.Errorf("voucher reference %s committed twice", ref)
		}
		byRef[ref] = c
		// ...only to the student who scanned it...
		if w.code[ref] != c.Voucher {
			return fmt.Errorf("MyQ committed voucher %s under reference %q, which scanned %s", journal.MaskVoucher(c.Voucher), ref, journal.MaskVoucher(w.code[ref]))
		}
		if u := w.user[ref]; u != c.UserID {
			return fmt.Errorf("voucher %s (%s) committed to user %d, but user %d tapped the card of the session that scanned it", ref, c.Amount, c.UserID, u)
		}
		// ...only when the student confirmed it...
		if !w.confirmed[ref] {
			return fmt.Errorf("voucher %s committed, but the student never confirmed it (cancelled: %v)", ref, w.cancelled[ref])
		}
		// ...for its printed value, and the journal knows.
		if int64(c.Amount) != w.value[c.Voucher] {
			return fmt.Errorf("voucher %s committed %s, printed value %d", ref, c.Amount, w.value[c.Voucher])
		}
		info, ok := l.Voucher(ref)
		if !ok || info.State != journal.VoucherCommitted || info.Amount != int64(c.Amount) {
			return fmt.Errorf("MyQ committed voucher %s (%s), the journal says %+v", ref, c.Amount, info)
		}
		myq += int64(c.Amount)
	}
	// A confirmed voucher MyQ offered is committed once MyQ is healthy:
	// never silently lost.
	for ref := range w.confirmed {
		if _, ok := byRef[ref]; !ok {
			info, _ := l.Voucher(ref)
			return fmt.Errorf("voucher %s confirmed (offered %d) but not committed at MyQ; the journal says %v", ref, w.offered[ref], info.State)
		}
	}
	// Nothing left open once MyQ is healthy; every other voucher moved no money.
	if open := l.OpenVouchers(); len(open) != 0 {
		return fmt.Errorf("vouchers still open after settling: %+v", open)
	}
	if owed := l.VoucherRollbacks(); len(owed) != 0 {
		return fmt.Errorf("vouchers still owing MyQ a rollback after settling: %+v", owed)
	}
	for ref := range w.code {
		if _, ok := byRef[ref]; ok {
			continue
		}
		if info, ok := l.Voucher(ref); ok && info.State == journal.VoucherCommitted {
			return fmt.Errorf("the journal says voucher %s is committed, MyQ has no such commit", ref)
		}
	}
	// Esc rolls back: a code the student cancelled (or never confirmed)
	// is redeemable again, not held by an open payment of ours, whatever
	// crashed or failed on the way. Only v3 lists voucher payments (the
	// v2 API documents neither a listing nor a rollback).
	if !w.v2 {
		for u := int64(1); u <= compoundUsers; u++ {
			ps, err := h.client.ListVoucherPaymentsV3(context.Background(), api.DefaultVoucherProvider, u)
			if err != nil {
				return fmt.Errorf("listing user %d's voucher payments: %w", u, err)
			}
			for _, p := range ps {
				if p.State == api.StateOpen {
					info, _ := l.Voucher(p.Description)
					return fmt.Errorf("voucher %s left open at MyQ (payment %s, %s), holding its code; journal: %v, cancelled %v",
						p.Description, p.ID, p.Amount, info.State, w.cancelled[p.Description])
				}
			}
		}
	}
	if t := l.Vouchers(); t.Committed != myq || t.Owed != 0 {
		return fmt.Errorf("journal's voucher totals %+v, MyQ's voucher ledger holds %d", t, myq)
	}
	h.logf("vouchers: %d asked, %d offered, %d confirmed, %d committed (%d), %d cancelled", w.redeems, len(w.offered), len(w.confirmed), len(byRef), myq, len(w.cancelled))
	st := &h.cs.vstats
	st.asked += w.redeems
	st.offered += len(w.offered)
	st.confirmed += len(w.confirmed)
	st.committed += len(byRef)
	st.cancelled += len(w.cancelled)
	return nil
}

// voucherStats add up what the histories did with vouchers, so a change
// that stops vouchers from reaching MyQ cannot pass unnoticed.
type voucherStats struct{ asked, offered, confirmed, committed, cancelled int }

func (st voucherStats) check(histories int) error {
	if histories < 100 {
		return nil // too few to expect every kind
	}
	if st.asked == 0 || st.offered == 0 || st.confirmed == 0 || st.committed == 0 || st.cancelled == 0 {
		return fmt.Errorf("vouchers did not exercise every step in %d histories: %+v", histories, st)
	}
	return nil
}
