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
	form   api.VoucherAPI
	cancel context.CancelFunc
	done   chan struct{}

	// onResult, when set before start, sees every outcome as the engine
	// does: on Vouchers' goroutine, right when it is reported.
	onResult func(VoucherResult)

	mu      sync.Mutex
	results []VoucherResult
	codes   []string
	n       int
}

var vUser = api.User{ID: 1, Username: "user1"}

func newVRig(t *testing.T, form api.VoucherAPI, v3 bool) *vrig {
	f, run := startFake(t)
	if v3 {
		f.SetVoucherV3(myqfake.DefaultVoucherParam)
	} else {
		f.SetVoucherV3("")
	}
	r := &vrig{t: t, fake: f, c: newClient(t, run, 2*time.Second), dir: t.TempDir(), form: form}
	vs := myqfake.VoucherBatch("TV", 8, 500, time.Now().Add(time.Hour))
	f.AddVouchers(vs...)
	for _, v := range vs {
		r.codes = append(r.codes, v.Code)
	}
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
		OnResult: func(res VoucherResult) {
			r.mu.Lock()
			r.results = append(r.results, res)
			r.mu.Unlock()
			if r.onResult != nil {
				r.onResult(res)
			}
		}})
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
	if err := r.fake.Check(); err != nil { // each code committed at most once
		r.t.Error(err)
	}
	var myq int64
	for _, c := range r.fake.Ledger() {
		if c.Voucher == "" {
			continue
		}
		if c.UserID != 1 {
			r.t.Errorf("voucher %s went to user %d", c.Voucher, c.UserID)
		}
		myq += int64(c.Amount)
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

// form is one way MyQ may redeem: adopt is whether a listing finds our
// payments (v3); v2 payments are listed nowhere, and the fake (like MyQ,
// UNCERTAIN) reserves a code from its create until commit or rollback.
type form struct {
	name  string
	form  api.VoucherAPI
	v3    bool
	adopt bool
}

func forms() []form {
	return []form{{"v3", api.VoucherAuto, true, true}, {"v2", api.VoucherV2, true, false}, {"v2-no-v3-provider", api.VoucherAuto, false, false}}
}

func (f form) routes() (create, commit myqfake.Route) {
	if f.adopt {
		return myqfake.RouteCreate, myqfake.RouteCommit
	}
	return myqfake.RouteVoucherCreate, myqfake.RouteVoucherCommit
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

// TestVoucherCommitRightAfterOffer: the engine may answer an offer with
// Commit at once (the student pressed Enter before the offer's goroutine
// ended). That commit is sent, not put off as "commit pending" until a
// sweep half a minute later.
func TestVoucherCommitRightAfterOffer(t *testing.T) {
	r := newVRig(t, api.VoucherAuto, true)
	r.onResult = func(res VoucherResult) {
		if res.Outcome == VoucherOffered {
			r.confirm(res.Reference)
			r.v.Commit(res.Reference)
		}
	}
	r.start()
	ref := r.seen(r.codes[0])
	r.v.Redeem(VoucherRequest{Reference: ref, Session: "s1", User: vUser, Code: r.codes[0]})
	r.wait(ref, VoucherCommitted)
	for _, o := range r.outcomes(ref) {
		if o == VoucherCommitPending {
			t.Errorf("outcomes %v: a commit sent right after the offer was put off", r.outcomes(ref))
		}
	}
	r.checkMoney(500)
}

// TestVoucherRedeemBeforeRun: the daemon starts Run and the engine
// together, so a code may be asked for before Run's goroutine has started.
// It is redeemed when Run starts, not answered "offline".
func TestVoucherRedeemBeforeRun(t *testing.T) {
	r := newVRig(t, api.VoucherAuto, true)
	v, err := NewVouchers(VoucherConfig{Client: r.c, Journal: r.j, Log: testLog(t), Form: r.form, Retry: time.Hour,
		OnResult: func(res VoucherResult) { r.mu.Lock(); r.results = append(r.results, res); r.mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	ref := r.seen(r.codes[0])
	v.Redeem(VoucherRequest{Reference: ref, Session: "s1", User: vUser, Code: r.codes[0]})
	if got := r.outcomes(ref); len(got) != 0 {
		t.Fatalf("answered %v before Run started", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel, r.done = cancel, make(chan struct{})
	go func() { defer close(r.done); v.Run(ctx) }()
	if got := r.wait(ref, VoucherOffered); got.Amount != 500 {
		t.Errorf("offered %+v", got)
	}
}

// TestVoucherSeenAfterStartIsNotAbandoned: what the journal held open when
// Vouchers was made is an earlier process's, closed by the first sweep; a
// code the engine journals as seen after that (even before Run's goroutine
// got going) is this process's own request and is redeemed.
func TestVoucherSeenAfterStartIsNotAbandoned(t *testing.T) {
	r := newVRig(t, api.VoucherAuto, true)
	old := r.seen(r.codes[0]) // an earlier process asked, then crashed
	r.start()
	ref := r.seen(r.codes[1])
	r.wait(old, VoucherClosed) // the first sweep has taken its refs
	r.v.Redeem(VoucherRequest{Reference: ref, Session: "s1", User: vUser, Code: r.codes[1]})
	if got := r.wait(ref, VoucherOffered); got.Amount != 500 {
		t.Errorf("offered %+v", got)
	}
	if got := r.outcomes(ref); len(got) != 1 {
		t.Errorf("outcomes of the new code %v, want only offered", got)
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
			createRoute, commitRoute := f.routes()
			// Lost create answer: adopted by reference when MyQ lists it.
			r.fake.DropAnswer(createRoute, 1)
			ref := r.seen(r.codes[0])
			r.v.Redeem(VoucherRequest{Reference: ref, Session: "s1", User: vUser, Code: r.codes[0]})
			if f.adopt {
				if got := r.wait(ref, VoucherOffered); got.Amount != 500 {
					t.Errorf("adopted %+v", got)
				}
				r.confirm(ref)
			} else {
				// Nothing lists it: the student is told to try later, and the
				// code stays reserved by the lost payment (no money moved).
				r.wait(ref, VoucherOffline)
				ref = r.seen(r.codes[0])
				r.v.Redeem(VoucherRequest{Reference: ref, Session: "s1", User: vUser, Code: r.codes[0]})
				if got := r.wait(ref, VoucherRefused); !got.Used {
					t.Errorf("retry of a reserved code: %+v", got)
				}
				ref = r.seen(r.codes[1])
				r.v.Redeem(VoucherRequest{Reference: ref, Session: "s1", User: vUser, Code: r.codes[1]})
				r.wait(ref, VoucherOffered)
				r.confirm(ref)
			}
			// Lost commit answer: resolved by listing (or by the refusal of a
			// repeated commit), never shown as an error, never twice.
			r.fake.DropAnswer(commitRoute, 1)
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
		// The engine journals Esc (or an offer left alone) before the
		// rollback reaches MyQ: the open payment would hold the code.
		{"created, cancelled, rollback not sent", func(r *vrig, ref, code string, rt api.VoucherRoute) {
			created(r, ref, create(r, ref, code, rt))
			r.must(journal.New(journal.KindVoucherClosed, "s1", time.Now(), journal.VoucherClosed{Reference: ref, Reason: "cancelled"}))
		}, journal.VoucherClosedSt, 0},
		{"create applied, cancelled while asking, answer not journaled", func(r *vrig, ref, code string, rt api.VoucherRoute) {
			create(r, ref, code, rt)
			r.must(journal.New(journal.KindVoucherClosed, "s1", time.Now(), journal.VoucherClosed{Reference: ref, Reason: "cancelled"}))
		}, journal.VoucherClosedSt, 0},
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
				waitFor(t, "resolved", func() bool {
					l := r.j.Ledger()
					return len(l.OpenVouchers()) == 0 && len(l.VoucherRollbacks()) == 0
				})
				if st := r.state(ref); st != w.want {
					t.Errorf("after restart %s, want %s", st, w.want)
				}
				if w.want == journal.VoucherClosedSt {
					ref2 := r.seen(r.codes[0])
					r.v.Redeem(VoucherRequest{Reference: ref2, Session: "s1", User: vUser, Code: r.codes[0]})
					if !f.adopt && w.name != "seen, create not sent" {
						// v2 has no rollback (UNCERTAIN): the code stays
						// reserved by the payment the student never confirmed.
						if got := r.wait(ref2, VoucherRefused); !got.Used {
							t.Errorf("reserved code: %+v", got)
						}
					} else {
						// The code was not used: it still redeems.
						r.wait(ref2, VoucherOffered)
						r.confirm(ref2)
						r.v.Commit(ref2)
						r.wait(ref2, VoucherCommitted)
						w.paid = 500
					}
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
	r.start()
	// MyQ has not answered the create yet (either form's route) ...
	releaseV3, releaseV2 := r.fake.Hold(myqfake.RouteCreate), r.fake.Hold(myqfake.RouteVoucherCreate)
	ref := r.seen(r.codes[0])
	r.v.Redeem(VoucherRequest{Reference: ref, Session: "s1", User: vUser, Code: r.codes[0]})
	// ... when the engine closes it on Esc.
	r.must(journal.New(journal.KindVoucherClosed, "s1", time.Now(), journal.VoucherClosed{Reference: ref, Reason: "cancelled"}))
	releaseV3()
	releaseV2()
	r.wait(ref, VoucherOffline)
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
