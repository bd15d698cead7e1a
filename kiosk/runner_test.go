package kiosk

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/printroom/voucherkiosk/api"
	"github.com/printroom/voucherkiosk/api/myqfake"
	"github.com/printroom/voucherkiosk/devices"
	"github.com/printroom/voucherkiosk/kiosk/journal"
)

// myqDirectory adapts the real api client, as the daemon does.
type myqDirectory struct{ c *api.Client }

func (d myqDirectory) FindUserByCard(ctx context.Context, card string) (User, error) {
	u, err := d.c.FindUserByCard(ctx, card)
	if errors.Is(err, api.ErrUserNotFound) {
		return User{}, ErrNotRegistered
	}
	if err != nil {
		return User{}, err
	}
	return User{ID: u.ID, Username: u.Username, FullName: u.FullName}, nil
}

// recBooker records what it is asked to book and answers through Post.
type recBooker struct {
	mu    sync.Mutex
	books []Book
	r     *Runner
}

func (b *recBooker) Book(id string, f journal.Finish) {
	b.mu.Lock()
	b.books = append(b.books, Book{SessionID: id, Finish: f})
	b.mu.Unlock()
}

func (b *recBooker) list() []Book {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Book(nil), b.books...)
}

type fakeAcceptor struct {
	mu sync.Mutex
	on bool
	n  int
}

func (a *fakeAcceptor) Name() string                                            { return "coins" }
func (a *fakeAcceptor) Run(ctx context.Context, out chan<- devices.Event) error { return nil }
func (a *fakeAcceptor) CanInhibit() bool                                        { return true }
func (a *fakeAcceptor) SetAccepting(on bool) {
	a.mu.Lock()
	a.on = on
	a.n++
	a.mu.Unlock()
}
func (a *fakeAcceptor) accepting() bool { a.mu.Lock(); defer a.mu.Unlock(); return a.on }

var _ devices.Acceptor = (*fakeAcceptor)(nil)

type runnerRig struct {
	t      *testing.T
	fake   *myqfake.Server
	clock  *ManualClock
	r      *Runner
	booker *recBooker
	acc    *fakeAcceptor
	events chan devices.Event
	j      *journal.Journal
	cache  *CardCache
	cancel context.CancelFunc
	done   chan error
}

const testCard = "0008844356"

func newRunnerRig(t *testing.T) *runnerRig {
	fake := myqfake.New(myqfake.Options{})
	fake.AddClient("kiosk", "secret", myqfake.DemoScope)
	fake.AddUser(myqfake.User{ID: 41, Username: "eva", FullName: "Eva Dvořák", Cards: []string{testCard}, Balance: 500})
	run, err := fake.Start(true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { run.Close() })
	dir := t.TempDir()
	ca, err := run.WriteCAFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	client, err := api.New(api.Config{URL: run.URL, ClientID: "kiosk", ClientSecret: "secret", CAFile: ca, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.CloseIdleConnections)
	cache, err := OpenCardCache(dir+"/cards.json", testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	rig := &runnerRig{t: t, fake: fake, clock: NewManualClock(t0), booker: &recBooker{}, acc: &fakeAcceptor{},
		events: make(chan devices.Event), cache: cache}
	rig.j = openJournal(t, journal.NewStrictMemFS())
	rig.r, err = NewRunner(RunnerConfig{
		Engine: testConfig(), Journal: rig.j, Restore: RestoredFrom(rig.j.Ledger()),
		Directory: myqDirectory{client}, Booker: rig.booker, Acceptors: []devices.Acceptor{rig.acc},
		Events: rig.events, Cache: cache, Clock: rig.clock, Log: testLog(t), LookupTimeout: 3 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	rig.cancel, rig.done = cancel, make(chan error, 1)
	go func() { rig.done <- rig.r.Run(ctx) }()
	t.Cleanup(rig.stop)
	return rig
}

func (g *runnerRig) stop() {
	if g.cancel != nil {
		g.cancel()
		<-g.done
		g.cancel = nil
	}
}

func (g *runnerRig) send(ev devices.Event) {
	select {
	case g.events <- ev:
	case <-time.After(10 * time.Second):
		g.t.Fatal("runner did not take the event")
	}
}

// waitFor polls the runner's state until ok (generous deadline, no timing asserts).
func (g *runnerRig) waitFor(what string, ok func(State) bool) State {
	g.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st := g.r.State()
		if ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			g.t.Fatalf("waiting for %s; state %+v", what, st)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// advance moves the manual clock once the runner has armed its timer.
func (g *runnerRig) advance(d time.Duration) {
	g.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for g.clock.Armed() == 0 {
		if time.Now().After(deadline) {
			g.t.Fatal("runner armed no timer")
		}
		time.Sleep(2 * time.Millisecond)
	}
	g.clock.Advance(d)
}

func TestRunnerTopUpAgainstFakeMyQ(t *testing.T) {
	g := newRunnerRig(t)
	sub, unsub := g.r.Subscribe()
	defer unsub()
	if err := g.r.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	g.send(devices.CardRead{Device: "card", Number: testCard})
	st := g.waitFor("session", func(s State) bool { return s.Phase == PhaseSession })
	if st.User == nil || st.User.FullName != "Eva Dvořák" || st.Offline {
		t.Fatalf("greeting: %+v", st.User)
	}
	if !g.acc.accepting() {
		t.Fatal("acceptor not enabled")
	}
	if u, ok := g.cache.Get(testCard, g.clock.Now()); !ok || u.ID != 41 {
		t.Fatal("card not cached after a found lookup")
	}
	g.send(devices.Credit{Device: "coins", Key: "5", Amount: 200})
	g.waitFor("credit", func(s State) bool { return s.Total == 200 })
	// The countdown: the runner's timer fires the idle finish on the manual clock.
	g.advance(20 * time.Second)
	g.waitFor("booking", func(s State) bool { return s.Phase == PhaseBooking })
	books := g.booker.list()
	if len(books) != 1 || books[0].Finish.UserID != 41 || books[0].Finish.Total != 200 {
		t.Fatalf("books %+v", books)
	}
	g.r.Post(BookingResult{SessionID: books[0].SessionID, Committed: true, Balance: ptr(int64(700))})
	st = g.waitFor("credited", func(s State) bool { return s.Phase == PhaseCredited })
	if *st.Receipt.NewBalance != 700 {
		t.Fatal("balance")
	}
	// The subscriber sees the latest state without having read the older ones.
	var last State
	for deadline := time.Now().Add(10 * time.Second); last.Phase != PhaseCredited; {
		select {
		case last = <-sub:
		case <-time.After(time.Until(deadline)):
			t.Fatalf("subscriber stuck at %v", last.Phase)
		}
	}
	g.advance(15 * time.Second)
	g.waitFor("idle", func(s State) bool { return s.Phase == PhaseIdle })
	if g.acc.accepting() {
		t.Fatal("acceptor left on")
	}
}

func TestRunnerOfflineUsesCardCache(t *testing.T) {
	g := newRunnerRig(t)
	g.send(devices.CardRead{Device: "card", Number: testCard})
	g.waitFor("session", func(s State) bool { return s.Phase == PhaseSession })
	g.r.Key(KeyEsc)
	g.waitFor("idle", func(s State) bool { return s.Phase == PhaseIdle })

	g.fake.SetDown(true)
	g.send(devices.CardRead{Device: "card", Number: testCard})
	st := g.waitFor("offline session", func(s State) bool { return s.Phase == PhaseSession })
	if !st.Offline || st.User == nil || st.User.ID != 41 {
		t.Fatalf("offline with cache: %+v", st)
	}
	g.r.Key(KeyEsc)
	g.waitFor("idle", func(s State) bool { return s.Phase == PhaseIdle })
	g.send(devices.CardRead{Device: "card", Number: "0000000001"})
	st = g.waitFor("offline session", func(s State) bool { return s.Phase == PhaseSession })
	if !st.Offline || st.User != nil {
		t.Fatalf("offline on the card alone: %+v", st)
	}
	g.fake.SetDown(false)
	g.r.Key(KeyEsc)
	g.send(devices.CardRead{Device: "card", Number: "0000000002"})
	g.waitFor("not registered", func(s State) bool { return s.Phase == PhaseNotRegistered })
}

func TestRunnerShutdownAndRestore(t *testing.T) {
	g := newRunnerRig(t)
	g.send(devices.CardRead{Device: "card", Number: testCard})
	g.waitFor("session", func(s State) bool { return s.Phase == PhaseSession })
	g.send(devices.Credit{Device: "coins", Key: "5", Amount: 50})
	g.waitFor("credit", func(s State) bool { return s.Total == 50 })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := g.r.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if b := g.booker.list(); len(b) != 1 || b[0].Finish.Reason != ReasonShutdown || b[0].Finish.Total != 50 {
		t.Fatalf("shutdown books %+v", b)
	}
	if g.acc.accepting() {
		t.Fatal("acceptor on after shutdown")
	}
	g.stop()
	// Run ended: subscriptions are closed, Ping fails by its deadline.
	sub, _ := g.r.Subscribe()
	<-sub
	if _, ok := <-sub; ok {
		t.Fatal("subscription open after Run ended")
	}
	pctx, pcancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer pcancel()
	if err := g.r.Ping(pctx); err == nil {
		t.Fatal("ping answered with no loop")
	}
	if len(g.j.Ledger().Pending()) != 1 {
		t.Fatal("finished session not pending in the journal")
	}
}

// The screen is built before Run: the first state it reads must already be
// the restored session, not a blank "tap your card" over a student's money.
func TestNewRunnerShowsRestoredSession(t *testing.T) {
	j := openJournal(t, journal.NewStrictMemFS())
	at := t0.Add(-time.Minute)
	if _, err := j.Append(
		journal.New(journal.KindSessionOpen, "s1", at, journal.SessionOpen{Card: testCard, UserID: 41, FullName: "Eva Dvořák"}),
		journal.New(journal.KindCredit, "s1", at, journal.Credit{Device: "coins", Key: "10", Amount: 100}),
		journal.New(journal.KindNoteEscrow, "s1", at, journal.NoteEscrow{Device: "notes", NoteID: "n1", Key: "1", Amount: 500}),
	); err != nil {
		t.Fatal(err)
	}
	booker := &recBooker{}
	r, err := NewRunner(RunnerConfig{
		Engine: testConfig(), Journal: j, Restore: RestoredFrom(j.Ledger()),
		Directory: myqDirectory{}, Booker: booker, Events: make(chan devices.Event),
		Clock: NewManualClock(t0), Log: testLog(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	st := r.State()
	if st.Phase != PhaseSession || st.SessionID != "s1" || st.Total != 100 {
		t.Fatalf("state before Run: phase %v session %q total %d, want the restored session", st.Phase, st.SessionID, st.Total)
	}
	sub, unsub := r.Subscribe()
	defer unsub()
	if first := <-sub; first.Phase != PhaseSession {
		t.Fatalf("first subscribed state: %v", first.Phase)
	}
	if len(booker.list()) != 0 {
		t.Fatal("booked before Run")
	}
}

// A note credit the validator driver handed over just before the daemon
// stopped: the driver has EVENT_ACKed it, so the device never reports it
// again. Run must journal it before it returns, or the note is stacked and
// never credited (and the next start reports its pending note returned).
// Run's loop picks between its ended context and a buffered event at random,
// so one try would pass half the time without the drain: 50 tries leave a
// chance of 2^-50.
func TestRunnerJournalsBufferedCreditWhenStopped(t *testing.T) {
	for i := 0; i < 50; i++ {
		j := openJournal(t, journal.NewStrictMemFS())
		at := t0.Add(-time.Minute)
		if _, err := j.Append(
			journal.New(journal.KindSessionOpen, "s1", at, journal.SessionOpen{Card: testCard, UserID: 41, FullName: "Eva Dvořák"}),
			journal.New(journal.KindNoteEscrow, "s1", at, journal.NoteEscrow{Device: "notes", NoteID: "n1", Key: "2", Amount: 1000}),
		); err != nil {
			t.Fatal(err)
		}
		events := make(chan devices.Event, 4)
		r, err := NewRunner(RunnerConfig{
			Engine: testConfig(), Journal: j, Restore: RestoredFrom(j.Ledger()),
			Directory: myqDirectory{}, Booker: &recBooker{}, Events: events,
			Clock: NewManualClock(t0), Log: testLog(t),
		})
		if err != nil {
			t.Fatal(err)
		}
		events <- devices.Credit{Device: "notes", Key: "2", Amount: 1000, NoteID: "n1", At: t0}
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // the devices stopped, then the runner: no graceful drain by the caller
		if err := r.Run(ctx); err != nil {
			t.Fatal(err)
		}
		led := j.Ledger()
		if n := led.PendingNotes(); len(n) != 0 {
			t.Fatalf("try %d: the credited note is still pending: %+v", i, n)
		}
		if c := led.Cash(); c.Accepted != 1000 {
			t.Fatalf("try %d: the journal accepted %d, the validator stacked 1000", i, c.Accepted)
		}
		if len(events) != 0 {
			t.Fatalf("try %d: %d events left unhandled", i, len(events))
		}
	}
}

// Issue 11 item 6: a card MyQ says is not registered is forgotten by the
// card cache, so a later outage cannot book to its previous owner.
func TestRunnerForgetsUnregisteredCard(t *testing.T) {
	g := newRunnerRig(t)
	if err := g.cache.Put("0000000777", User{ID: 41, Username: "eva"}, g.clock.Now()); err != nil {
		t.Fatal(err)
	}
	g.send(devices.CardRead{Device: "card", Number: "0000000777"})
	g.waitFor("not registered", func(s State) bool { return s.Phase == PhaseNotRegistered })
	if _, ok := g.cache.Get("0000000777", g.clock.Now()); ok {
		t.Fatal("the card cache still names an owner for a card MyQ does not know")
	}
}
