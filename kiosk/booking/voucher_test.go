package booking

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/printroom/voucherkiosk/api"
	"github.com/printroom/voucherkiosk/api/myqfake"
	"github.com/printroom/voucherkiosk/kiosk/journal"
)

// vrig is Vouchers over a real journal on disk against the fake over TLS.
// A "crash" is the journal closed at a chosen record with MyQ's side done
// (or not) by hand, then a new journal and a new Vouchers on the same
// directory: exactly what a restart sees.
type vrig struct {
	t      *testing.T
	fake   *myqfake.Server
	c      *api.Client
	dir    string
	j      *journal.Journal
	v      *Vouchers
	form   api.VoucherForm
	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	results []VoucherResult
	codes   []string
	n       int
}

var vUser = api.User{ID: 1, Username: "user1"}

func newVRig(t *testing.T, form api.VoucherForm, v3 bool) *vrig {
	f, run := startFake(t)
	f.SetVoucherProvider(v3, "", "", false)
	r := &vrig{t: t, fake: f, c: newClient(t, run, 2*time.Second), dir: t.TempDir(), form: form}
	r.codes = f.AddVoucherBatch("TV", 8, 500, time.Now().Add(time.Hour))
	r.open()
	t.Cleanup(r.stop)
	return r
}

func (r *vrig) open() {
	j, err := journal.Open(journal.Options{Dir: r.dir, CompactAfter: -1})
	if err != nil {
		r.t.Fatal(err)
	}
	r.j = j
	if _, ok := r.j.Ledger().Session("s1"); !ok {
		r.must(journal.New(journal.KindSessionOpen, "s1", time.Now(), journal.SessionOpen{Card: cardOf(1), UserID: 1, Username: "user1"}))
	}
}

func (r *vrig) must(recs ...journal.Record) {
	r.t.Helper()
	if _, err := r.j.Append(recs...); err != nil {
		r.t.Fatal(err)
	}
}

func (r *vrig) start() {
	v, err := NewVouchers(VoucherConfig{Client: r.c, Journal: r.j, Log: testLog(r.t), Form: r.form, Retry: time.Hour,
		OnResult: func(res VoucherResult) { r.mu.Lock(); r.results = append(r.results, res); r.mu.Unlock() }})
	if err != nil {
		r.t.Fatal(err)
	}
	r.v = v
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel, r.done = cancel, make(chan struct{})
	go func() { defer close(r.done); v.Run(ctx) }()
}

// stop ends Run and closes the journal (a crash, as far as the journal is
// concerned: nothing more is written).
func (r *vrig) stop() {
	if r.cancel != nil {
		r.cancel()
		<-r.done
		r.cancel = nil
	}
	if r.j != nil {
		r.j.Close()
		r.j = nil
	}
}

func (r *vrig) restart() { r.stop(); r.open(); r.start() }

// seen journals a code as the engine does before asking MyQ.
func (r *vrig) seen(code string) string {
	r.n++
	ref := testKiosk + "/s1/v" + string(rune('0'+r.n))
	r.must(journal.New(journal.KindVoucherSeen, "s1", time.Now(), journal.VoucherSeen{Reference: ref, UserID: 1, Username: "user1", Masked: journal.MaskVoucher(code)}))
	return ref
}

func (r *vrig) confirm(ref string) {
	r.must(journal.New(journal.KindVoucherConfirmed, "s1", time.Now(), journal.VoucherRef{Reference: ref}))
}

func (r *vrig) wait(ref string, want VoucherOutcome) VoucherResult {
	r.t.Helper()
	var got VoucherResult
	waitFor(r.t, "voucher "+ref+" "+want.String(), func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, res := range r.results {
			if res.Reference == ref && res.Outcome == want {
				got = res
				return true
			}
		}
		return false
	})
	return got
}

func (r *vrig) outcomes(ref string) []VoucherOutcome {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []VoucherOutcome
	for _, res := range r.results {
		if res.Reference == ref {
			out = append(out, res.Outcome)
		}
	}
	return out
}

func (r *vrig) state(ref string) journal.VoucherState {
	info, ok := r.j.Ledger().Voucher(ref)
	if !ok {
		r.t.Fatalf("voucher %s not in the journal", ref)
	}
	return info.State
}

func (r *vrig) route() api.VoucherRoute {
	rt, err := r.c.ResolveVoucher(context.Background(), r.form, "", "")
	if err != nil {
		r.t.Fatal(err)
	}
	return rt
}

// checkMoney: MyQ's ledger is sane, each code committed at most once, to
// user 1, and the journal's committed vouchers equal MyQ's.
func (r *vrig) checkMoney(wantCommitted int64) {
	r.t.Helper()
	if err := r.fake.Check(); err != nil {
		r.t.Error(err)
	}
	if err := r.fake.CheckVouchers(); err != nil {
		r.t.Error(err)
	}
	var myq int64
	for _, red := range r.fake.Redemptions() {
		if red.UserID != 1 {
			r.t.Errorf("voucher %s went to user %d", red.Code, red.UserID)
		}
		myq += int64(red.Amount)
	}
	if myq != wantCommitted {
		r.t.Errorf("MyQ holds %d of vouchers, want %d", myq, wantCommitted)
	}
	if got := r.j.Ledger().Vouchers().Committed; got != wantCommitted {
		r.t.Errorf("journal holds %d of committed vouchers, want %d", got, wantCommitted)
	}
	if open := r.j.Ledger().OpenVouchers(); len(open) != 0 {
		r.t.Errorf("vouchers left open: %+v", open)
	}
}

func forms() []struct {
	name string
	form api.VoucherForm
	v3   bool
} {
	return []struct {
		name string
		form api.VoucherForm
		v3   bool
	}{{"v3", api.VoucherAuto, true}, {"v2", api.VoucherV2, true}, {"v2-no-listing", api.VoucherAuto, false}}
}

func TestVoucherRedeemAndCommit(t *testing.T) {
	for _, f := range forms() {
		t.Run(f.name, func(t *testing.T) {
			r := newVRig(t, f.form, f.v3)
			r.start()
			ref := r.seen(r.codes[0])
			r.v.Redeem(VoucherRequest{Reference: ref, Session: "s1", User: vUser, Code: r.codes[0]})
			if got := r.wait(ref, VoucherOffered); got.Amount != 500 || got.PaymentID == "" {
				t.Errorf("offered %+v, want 500 and the payment id", got)
			}
			if r.fake.Balance(1) != 0 {
				t.Error("an offer moved money")
			}
			r.confirm(ref)
			r.v.Commit(ref)
			r.wait(ref, VoucherCommitted)
			if r.fake.Balance(1) != 500 {
				t.Errorf("balance %v", r.fake.Balance(1))
			}
			// The same code again: refused as used, with MyQ's words.
			ref2 := r.seen(r.codes[0])
			r.v.Redeem(VoucherRequest{Reference: ref2, Session: "s1", User: vUser, Code: r.codes[0]})
			got := r.wait(ref2, VoucherRefused)
			if !got.Used || got.Message != myqfake.MsgVoucherUsed {
				t.Errorf("used code: %+v", got)
			}
			// Unknown code.
			ref3 := r.seen("NOPE-0000")
			r.v.Redeem(VoucherRequest{Reference: ref3, Session: "s1", User: vUser, Code: "NOPE-0000"})
			if got := r.wait(ref3, VoucherRefused); got.Used || got.Message != myqfake.MsgVoucherUnknown {
				t.Errorf("unknown code: %+v", got)
			}
			r.checkMoney(500)
		})
	}
}

func TestVoucherOfflineTakesNothing(t *testing.T) {
	r := newVRig(t, api.VoucherAuto, true)
	r.start()
	r.fake.SetRefuse(true)
	ref := r.seen(r.codes[0])
	r.v.Redeem(VoucherRequest{Reference: ref, Session: "s1", User: vUser, Code: r.codes[0]})
	r.wait(ref, VoucherOffline)
	r.fake.SetRefuse(false)
	r.v.Sweep()
	waitFor(t, "closed", func() bool { return r.state(ref) == journal.VoucherClosedSt })
	r.checkMoney(0)
}

// TestVoucherLostAnswers: MyQ applied the change and the answer was lost.
func TestVoucherLostAnswers(t *testing.T) {
	for _, f := range forms() {
		t.Run(f.name, func(t *testing.T) {
			r := newVRig(t, f.form, f.v3)
			r.start()
			// Lost create answer: adopted by reference when MyQ lists it.
			r.fake.DropAnswer(myqfake.RouteVoucherCreate, 1)
			ref := r.seen(r.codes[0])
			r.v.Redeem(VoucherRequest{Reference: ref, Session: "s1", User: vUser, Code: r.codes[0]})
			if f.v3 {
				if got := r.wait(ref, VoucherOffered); got.Amount != 500 {
					t.Errorf("adopted %+v", got)
				}
				r.confirm(ref)
			} else {
				r.wait(ref, VoucherOffline) // nothing to list: the code stays unused
				ref = r.seen(r.codes[0])
				r.v.Redeem(VoucherRequest{Reference: ref, Session: "s1", User: vUser, Code: r.codes[0]})
				r.wait(ref, VoucherOffered)
				r.confirm(ref)
			}
			// Lost commit answer: resolved by listing (or by the refusal of a
			// repeated commit), never shown as an error, never twice.
			r.fake.DropAnswer(myqfake.RouteVoucherCommit, 1)
			r.v.Commit(ref)
			r.wait(ref, VoucherCommitPending)
			r.v.Sweep()
			r.wait(ref, VoucherCommitted)
			for _, o := range r.outcomes(ref) {
				if o == VoucherRefused {
					t.Error("a credited student was told the voucher was refused")
				}
			}
			r.checkMoney(500)
		})
	}
}

// TestVoucherCrashWindows restarts between every two steps of a voucher,
// with MyQ's side of the step done or not.
func TestVoucherCrashWindows(t *testing.T) {
	type window struct {
		name string
		// before the crash: journal records and MyQ calls
		run  func(r *vrig, ref, code string, rt api.VoucherRoute)
		want journal.VoucherState
		paid int64
	}
	create := func(r *vrig, ref, code string, rt api.VoucherRoute) api.VoucherPayment {
		p, err := r.c.CreateVoucherPayment(context.Background(), rt, vUser, code, ref)
		if err != nil {
			r.t.Fatal(err)
		}
		return p
	}
	created := func(r *vrig, ref string, p api.VoucherPayment) {
		r.must(journal.New(journal.KindVoucherCreated, "s1", time.Now(), journal.VoucherPayment{Reference: ref, PaymentID: p.ID, Amount: int64(p.Amount)}))
	}
	windows := []window{
		{"seen, create not sent", func(r *vrig, ref, code string, rt api.VoucherRoute) {}, journal.VoucherClosedSt, 0},
		{"create applied, answer not journaled", func(r *vrig, ref, code string, rt api.VoucherRoute) { create(r, ref, code, rt) }, journal.VoucherClosedSt, 0},
		{"created, not confirmed", func(r *vrig, ref, code string, rt api.VoucherRoute) { created(r, ref, create(r, ref, code, rt)) }, journal.VoucherClosedSt, 0},
		{"confirmed, commit not sent", func(r *vrig, ref, code string, rt api.VoucherRoute) {
			created(r, ref, create(r, ref, code, rt))
			r.confirm(ref)
		}, journal.VoucherCommitted, 500},
		{"commit applied, not journaled", func(r *vrig, ref, code string, rt api.VoucherRoute) {
			p := create(r, ref, code, rt)
			created(r, ref, p)
			r.confirm(ref)
			if _, err := r.c.CommitVoucherPayment(context.Background(), rt, p.ID); err != nil {
				r.t.Fatal(err)
			}
		}, journal.VoucherCommitted, 500},
	}
	for _, f := range forms() {
		for _, w := range windows {
			t.Run(f.name+"/"+w.name, func(t *testing.T) {
				r := newVRig(t, f.form, f.v3)
				ref := r.seen(r.codes[0])
				w.run(r, ref, r.codes[0], r.route())
				r.restart()
				waitFor(t, "resolved", func() bool { return len(r.j.Ledger().OpenVouchers()) == 0 })
				if st := r.state(ref); st != w.want {
					t.Errorf("after restart %s, want %s", st, w.want)
				}
				if w.want == journal.VoucherClosedSt {
					// The code was not used: it still redeems.
					ref2 := r.seen(r.codes[0])
					r.v.Redeem(VoucherRequest{Reference: ref2, Session: "s1", User: vUser, Code: r.codes[0]})
					r.wait(ref2, VoucherOffered)
					r.confirm(ref2)
					r.v.Commit(ref2)
					r.wait(ref2, VoucherCommitted)
					w.paid = 500
				}
				// A second restart changes nothing.
				r.restart()
				r.v.Sweep()
				r.checkMoney(w.paid)
			})
		}
	}
}

func TestVoucherEscWhileAsking(t *testing.T) {
	r := newVRig(t, api.VoucherAuto, true)
	r.fake.SetLatency(50 * time.Millisecond)
	r.start()
	ref := r.seen(r.codes[0])
	r.v.Redeem(VoucherRequest{Reference: ref, Session: "s1", User: vUser, Code: r.codes[0]})
	// The engine closes it on Esc before MyQ answered.
	r.must(journal.New(journal.KindVoucherClosed, "s1", time.Now(), journal.VoucherClosed{Reference: ref, Reason: "cancelled"}))
	r.wait(ref, VoucherOffline)
	r.fake.SetLatency(0)
	ps, err := r.c.ListVoucherPayments(context.Background(), r.route(), 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if p.State == api.StateOpen {
			t.Errorf("payment %s of a cancelled voucher left open", p.ID)
		}
	}
	r.checkMoney(0)
}

func TestIsVoucherRef(t *testing.T) {
	for ref, want := range map[string]bool{
		"k/261130-022748-c5c1be/v1":  true,
		"k/261130-022748-c5c1be/v12": true,
		"k/261130-022748-c5c1be":     false,
		"k/v1":                       false,
		"k/s/vx":                     false,
		"k/s/v":                      false,
	} {
		if got := isVoucherRef(ref); got != want {
			t.Errorf("isVoucherRef(%q) = %v", ref, got)
		}
	}
}

// TestCashBookingLeavesVoucherPaymentsAlone: should MyQ list voucher
// payments with the cash provider's, the cash booking's orphan sweep must
// not roll back a voucher the student is confirming.
func TestCashBookingLeavesVoucherPaymentsAlone(t *testing.T) {
	r := newRig(t, rigOpt{})
	r.fake.SetVoucherProvider(true, "", "", false)
	r.fake.SetVouchersInCashList(true)
	codes := r.fake.AddVoucherBatch("CB", 1, 500, time.Now().Add(time.Hour))
	rt, err := r.client.ResolveVoucher(context.Background(), api.VoucherAuto, "", "")
	if err != nil {
		t.Fatal(err)
	}
	vp, err := r.client.CreateVoucherPayment(context.Background(), rt, vUser, codes[0], testKiosk+"/s999999/v1")
	if err != nil {
		t.Fatal(err)
	}
	r.start()
	r.fake.DropAnswer(myqfake.RouteCreate, 1) // the cash booking lists and sweeps
	r.book(1, 200)
	r.settle()
	ps, err := r.client.ListVoucherPayments(context.Background(), rt, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if p.ID == vp.ID && p.State != api.StateOpen {
			t.Fatalf("the cash booking rolled back voucher payment %s (%s)", p.ID, p.State)
		}
	}
}
