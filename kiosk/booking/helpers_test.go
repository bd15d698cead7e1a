package booking

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/printroom/voucherkiosk/api"
	"github.com/printroom/voucherkiosk/api/myqfake"
	"github.com/printroom/voucherkiosk/kiosk/journal"
)

func TestMain(m *testing.M) {
	if os.Getenv(crashChildEnv) != "" {
		os.Exit(crashChild())
	}
	goleak.VerifyTestMain(m)
}

const (
	testKiosk  = "test-kiosk"
	testClient = "kiosk-test"
	testSecret = "s3cret"
	numUsers   = 5
)

func cardOf(uid int64) string { return fmt.Sprintf("00%08d", 4242000+uid) }

func testLog(t testing.TB) *slog.Logger {
	if os.Getenv("BOOKING_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// startFake runs a MyQ fake over TLS on loopback with numUsers users.
func startFake(t testing.TB) (*myqfake.Server, *myqfake.Running) {
	t.Helper()
	f := myqfake.New(myqfake.Options{})
	f.AddClient(testClient, testSecret, "credit users")
	for uid := int64(1); uid <= numUsers; uid++ {
		f.AddUser(myqfake.User{ID: uid, Username: fmt.Sprintf("user%d", uid), FullName: fmt.Sprintf("User %d", uid), Cards: []string{cardOf(uid)}})
	}
	run, err := f.Start(true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := run.Close(); err != nil {
			t.Error(err)
		}
	})
	return f, run
}

func newClient(t testing.TB, run *myqfake.Running, timeout time.Duration) *api.Client {
	t.Helper()
	ca, err := run.WriteCAFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	c, err := api.New(api.Config{URL: run.URL, ClientID: testClient, ClientSecret: testSecret, CAFile: ca, Timeout: timeout, Log: testLog(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// rig is a Booker over a real journal against the fake, with the money
// finished tracked so every test can prove exactly-once.
type rig struct {
	t      testing.TB
	fake   *myqfake.Server
	run    *myqfake.Running
	client *api.Client
	fs     journal.FS
	dir    string
	cfg    Config // template for each Booker

	j      *journal.Journal
	b      *Booker
	cancel context.CancelFunc
	done   chan error

	mu       sync.Mutex
	results  []Result
	balances map[string]int64 // OnBalance, by session
	statuses int
	commits  int64
	finished map[int64]int64 // money finished per user
	refs     map[string]string
	nsess    int
	rnd      *rand.Rand
	compact  int
}

type rigOpt struct {
	fs      journal.FS
	timeout time.Duration
	cfg     func(*Config)
	// compactAfter is journal.Options.CompactAfter; 0: 200, so tests
	// compact often.
	compactAfter int
}

func newRig(t testing.TB, o rigOpt) *rig {
	t.Helper()
	f, run := startFake(t)
	if o.timeout == 0 {
		o.timeout = 3 * time.Second
	}
	r := &rig{
		t: t, fake: f, run: run, client: newClient(t, run, o.timeout),
		fs: o.fs, dir: t.TempDir(),
		finished: map[int64]int64{}, refs: map[string]string{},
		rnd: rand.New(rand.NewPCG(1, 2)), compact: o.compactAfter,
	}
	if r.compact == 0 {
		r.compact = 200
	}
	if r.fs == nil {
		r.fs = journal.OSFS()
	}
	r.cfg = Config{
		Client: r.client, KioskID: testKiosk, Log: testLog(t),
		MinBackoff: 5 * time.Millisecond, MaxBackoff: 60 * time.Millisecond, AttentionBackoff: 10 * time.Second,
		DrainSpacing: 5 * time.Millisecond,
		Jitter: func(max time.Duration) time.Duration {
			if max <= 0 {
				return 0
			}
			return time.Duration(r.rnd.Int64N(int64(max)))
		},
	}
	if o.cfg != nil {
		o.cfg(&r.cfg)
	}
	r.openJournal()
	t.Cleanup(func() {
		r.stop()
		if r.j != nil {
			r.j.Close()
		}
	})
	return r
}

func (r *rig) openJournal() {
	r.t.Helper()
	j, err := journal.Open(journal.Options{FS: r.fs, Dir: r.dir, Log: testLog(r.t), CompactAfter: r.compact})
	if err != nil {
		r.t.Fatal(err)
	}
	r.j = j
}

// start runs a new Booker over the current journal.
func (r *rig) start() *Booker {
	r.t.Helper()
	cfg := r.cfg
	cfg.Journal = r.j
	onResult, onCommitted := r.cfg.OnResult, r.cfg.OnCommitted
	cfg.OnResult = func(res Result) {
		r.mu.Lock()
		r.results = append(r.results, res)
		r.mu.Unlock()
		if onResult != nil {
			onResult(res)
		}
	}
	cfg.OnBalance = func(id string, bal int64) {
		r.mu.Lock()
		if r.balances == nil {
			r.balances = map[string]int64{}
		}
		r.balances[id] = bal
		r.mu.Unlock()
	}
	cfg.OnStatus = func(Status) { r.mu.Lock(); r.statuses++; r.mu.Unlock() }
	cfg.OnCommitted = func(a int64) {
		r.mu.Lock()
		r.commits += a
		r.mu.Unlock()
		if onCommitted != nil {
			onCommitted(a)
		}
	}
	b, err := New(cfg)
	if err != nil {
		r.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.b, r.cancel, r.done = b, cancel, make(chan error, 1)
	go func() { r.done <- b.Run(ctx) }()
	return b
}

func (r *rig) stop() {
	if r.cancel == nil {
		return
	}
	r.cancel()
	if err := <-r.done; err != nil {
		r.t.Errorf("Run: %v", err)
	}
	r.cancel = nil
}

// restart is a process restart: a new Booker over the reopened journal.
func (r *rig) restart() {
	r.t.Helper()
	r.stop()
	if err := r.j.Close(); err != nil {
		r.t.Fatal(err)
	}
	r.openJournal()
	r.start()
}

// finish journals a session with money for user uid (0: offline, by card
// only), like the engine does, and returns what the engine hands to Book.
func (r *rig) finish(uid int64, card string, amount int64) (string, journal.Finish) {
	r.t.Helper()
	r.mu.Lock()
	r.nsess++
	id := fmt.Sprintf("s%06d", r.nsess)
	r.mu.Unlock()
	now := time.Now()
	f := journal.Finish{Total: amount, Reference: testKiosk + "/" + id, UserID: uid, Card: card, Reason: "enter"}
	_, err := r.j.Append(
		journal.New(journal.KindSessionOpen, id, now, journal.SessionOpen{Card: card, UserID: uid, Offline: uid == 0}),
		journal.New(journal.KindCredit, id, now, journal.Credit{Device: "coins", Key: "1", Amount: amount}),
		journal.New(journal.KindFinish, id, now, f),
	)
	if err != nil {
		r.t.Fatal(err)
	}
	return id, f
}

// owe records money that must reach user uid exactly once.
func (r *rig) owe(uid, amount int64, ref string) {
	r.mu.Lock()
	r.finished[uid] += amount
	r.mu.Unlock()
}

// book finishes and books a session of user uid (known to the engine).
func (r *rig) book(uid, amount int64) string {
	id, f := r.finish(uid, cardOf(uid), amount)
	r.owe(uid, amount, f.Reference)
	r.b.Book(id, f)
	return id
}

func (r *rig) balance(id string) (int64, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	b, ok := r.balances[id]
	return b, ok
}

func (r *rig) result(id string) (Result, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, res := range r.results {
		if res.SessionID == id {
			return res, true
		}
	}
	return Result{}, false
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (r *rig) pending() int { return len(r.j.Ledger().Pending()) }

// settle waits until nothing is pending, then proves exactly-once.
func (r *rig) settle() {
	r.t.Helper()
	r.b.FlushNow()
	waitFor(r.t, "queue empty", func() bool { return r.pending() == 0 && r.b.Status().Pending == 0 })
	r.checkMoney()
}

// checkMoney: the fake's ledger equals the money finished, each reference
// committed once.
func (r *rig) checkMoney() {
	r.t.Helper()
	if err := r.fake.Check(); err != nil {
		r.t.Fatal(err)
	}
	got := r.fake.Totals()
	r.mu.Lock()
	defer r.mu.Unlock()
	for uid := int64(0); uid <= numUsers; uid++ {
		if api.Money(r.finished[uid]) != got[uid] {
			r.t.Fatalf("user %d: MyQ got %s, finished %s (all: %v)", uid, got[uid], api.Money(r.finished[uid]), got)
		}
	}
	seen := map[string]bool{}
	for _, c := range r.fake.Ledger() {
		if c.Description == "" {
			continue
		}
		if seen[c.Description] {
			r.t.Fatalf("reference %s committed twice", c.Description)
		}
		seen[c.Description] = true
	}
}
