package e2e

// The notes money check (issue 5's proof) through the whole in-process stack:
// a real bill.Validator on a pty against sspsim, the real kiosk.Runner with
// the real journal on disk, the real booking.Booker against myqfake over TLS
// on loopback, wired the way cmd/kioskd wires them. Faults are injected from
// a seeded generator; at the end every note the simulator stacked must be
// committed in MyQ exactly once, to the student who inserted it.

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/printroom/voucherkiosk/api"
	"github.com/printroom/voucherkiosk/api/myqfake"
	"github.com/printroom/voucherkiosk/devices"
	"github.com/printroom/voucherkiosk/devices/bill"
	"github.com/printroom/voucherkiosk/devices/devsim/sspsim"
	"github.com/printroom/voucherkiosk/kiosk"
	"github.com/printroom/voucherkiosk/kiosk/booking"
	"github.com/printroom/voucherkiosk/kiosk/journal"
)

var (
	notesSeed  = flag.Uint64("notes.seed", 0, "TestNotesMoneyFullStack: seed of the fault schedule (0: from the clock); every run prints its seed")
	notesCount = flag.Int("notes.count", 0, "TestNotesMoneyFullStack: notes to insert (0: 200, 60 with -short)")
)

const (
	notesDevice  = "notes"
	notesKioskID = "e2e-notes"
	notesMax     = 5000 // max_topup in minor units
	// notesWait bounds every wait on a condition: generous, because a
	// loaded 2-core machine running -race may be slow; a wait ends as
	// soon as its condition holds.
	notesWait = 30 * time.Second
)

// notesValues is the channel table of the validator and its config.
var notesValues = map[int]int64{1: 500, 2: 1000, 3: 2000}

// notesDirectory adapts the MyQ client to the engine's card lookup, as
// cmd/kioskd's directory does.
type notesDirectory struct{ client *api.Client }

var (
	_ kiosk.Directory = (*notesDirectory)(nil)
	_ kiosk.Balancer  = (*notesDirectory)(nil)
)

func (d *notesDirectory) FindUserByCard(ctx context.Context, card string) (kiosk.User, error) {
	u, err := d.client.FindUserByCard(ctx, card)
	if errors.Is(err, api.ErrUserNotFound) {
		return kiosk.User{}, kiosk.ErrNotRegistered
	}
	if err != nil {
		return kiosk.User{}, err
	}
	return kiosk.User{ID: u.ID, Username: u.Username, FullName: u.FullName}, nil
}

func (d *notesDirectory) Balance(ctx context.Context, userID int64) (int64, bool, error) {
	bal, known, err := d.client.Balance(ctx, userID)
	return int64(bal), known, err
}

// notesBoot is one run of the daemon's money parts over the state directory:
// what a restart throws away and builds again.
type notesBoot struct {
	j      *journal.Journal
	client *api.Client
	booker *booking.Booker
	runner *kiosk.Runner
	events chan devices.Event

	stopDevices, stopRunner, stopBooker context.CancelFunc
	wg                                  sync.WaitGroup

	mu   sync.Mutex
	errs []error // parts that stopped on their own
}

func (b *notesBoot) failed(part string, err error) {
	b.mu.Lock()
	b.errs = append(b.errs, fmt.Errorf("%s: %w", part, err))
	b.mu.Unlock()
}

type notesStats struct {
	inserted   int // notes fed into the validator
	stacked    int // of those (and of earlier ones), stacked by the simulator
	returned   int // given back (engine, simulator or driver)
	refusedMax int // the validator was inhibited: max_topup reached
	overMax    int // notes that would have exceeded max_topup
	sessions   int
	committed  int // sessions whose receipt said "credited"
	queued     int // sessions saved offline
	restarts   int
	restartsBy map[string]int // restarts by the moment they hit
	reconnects int            // disconnect-in-escrow faults that fired
	faults     map[string]int
}

type notesRig struct {
	t        *testing.T
	dir      string
	stateDir string
	logPath  string
	logFile  *os.File
	log      *slog.Logger

	fake   *myqfake.Server
	myq    *myqfake.Running
	caFile string
	sim    *sspsim.Sim
	rng    *rand.Rand
	seed   uint64

	cur atomic.Pointer[kiosk.Runner] // the runner booking results go to
	b   *notesBoot

	st        notesStats
	expect    map[int64]int64 // per user: the values of the notes stacked in their sessions
	accounted int             // sim.Stacked()[:accounted] is in expect
	myqDown   int             // sessions left before MyQ comes back; 0: up
	cashboxes []kiosk.Cashbox // the engine's Config.Cashboxes
}

func newNotesRig(t *testing.T, seed uint64) *notesRig {
	t.Helper()
	// A short directory: the simulator's pty symlink and the fake's CA live
	// here, and t.TempDir() names can be long.
	dir, err := os.MkdirTemp("", "notes-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	r := &notesRig{t: t, dir: dir, stateDir: filepath.Join(dir, "state"), logPath: filepath.Join(dir, "kiosk.log"),
		rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), seed: seed,
		expect: map[int64]int64{}, st: notesStats{faults: map[string]int{}, restartsBy: map[string]int{}}}
	t.Cleanup(r.close)
	if err := os.Mkdir(r.stateDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if r.logFile, err = os.Create(r.logPath); err != nil {
		t.Fatal(err)
	}
	r.log = slog.New(slog.NewTextHandler(r.logFile, &slog.HandlerOptions{Level: slog.LevelInfo}))

	r.fake = myqfake.New(myqfake.Options{})
	r.fake.AddClient(ClientID, ClientSecret, myqfake.DemoScope)
	for _, u := range Users() {
		r.fake.AddUser(u)
	}
	if r.myq, err = r.fake.Start(true); err != nil {
		t.Fatalf("start fake MyQ: %v", err)
	}
	if r.caFile, err = r.myq.WriteCAFile(dir); err != nil {
		t.Fatal(err)
	}
	devDir := filepath.Join(dir, "dev")
	if err := os.Mkdir(devDir, 0o700); err != nil {
		t.Fatal(err)
	}
	r.sim, err = sspsim.New(devDir, sspsim.Options{Channels: []int64{notesValues[1], notesValues[2], notesValues[3]},
		Currency: "EUR", Encryption: true, Log: r.log.With("part", "sspsim")})
	if err != nil {
		t.Fatalf("SSP simulator: %v", err)
	}
	return r
}

// close ends everything the rig started; it runs on failure too.
func (r *notesRig) close() {
	if r.b != nil {
		r.stop()
	}
	if r.sim != nil {
		r.sim.Close()
	}
	if r.myq != nil {
		r.myq.Close()
	}
	if r.logFile != nil {
		r.logFile.Close()
	}
	os.RemoveAll(r.dir)
}

func (r *notesRig) post(ev any) {
	if rn := r.cur.Load(); rn != nil {
		rn.Post(ev)
	}
}

// boot wires journal, MyQ client, validator, card cache, booker and runner
// the way cmd/kioskd's runDaemon does, over the same state directory.
func (r *notesRig) boot() {
	r.t.Helper()
	b := &notesBoot{events: make(chan devices.Event, 64)}
	var err error
	if b.j, err = journal.Open(journal.Options{Dir: r.stateDir, Log: r.log.With("part", "journal")}); err != nil {
		r.fail("open journal: %v", err)
	}
	snap := b.j.Ledger()
	b.client, err = api.New(api.Config{URL: r.myq.URL, ClientID: ClientID, ClientSecret: ClientSecret, CAFile: r.caFile,
		Provider: "external", Timeout: 5 * time.Second, Version: "e2e", Log: r.log.With("part", "myq")})
	if err != nil {
		b.j.Close()
		r.fail("api client: %v", err)
	}
	pending := 0
	for _, n := range snap.PendingNotes() {
		if n.Device == notesDevice {
			pending++
		}
	}
	v, err := bill.New(bill.Config{Name: notesDevice, Port: r.sim.Path(), Values: notesValues, Currency: "EUR",
		Encryption: true, PendingNotes: pending, PollInterval: 20 * time.Millisecond, Reconnect: 100 * time.Millisecond,
		Log: r.log.With("part", "bill")})
	if err != nil {
		b.j.Close()
		r.fail("validator: %v", err)
	}
	cache, err := kiosk.OpenCardCache(filepath.Join(r.stateDir, "cards.cache"), r.log.With("part", "cardcache"))
	if err != nil {
		b.j.Close()
		r.fail("card cache: %v", err)
	}
	b.booker, err = booking.New(booking.Config{
		Client: b.client, Journal: b.j, KioskID: notesKioskID, Log: r.log.With("part", "booking"),
		// Short backoff: MyQ outages here last a few sessions, not hours.
		MinBackoff: 100 * time.Millisecond, MaxBackoff: 2 * time.Second, DrainSpacing: 50 * time.Millisecond,
		OnResult: func(res booking.Result) {
			r.post(kiosk.BookingResult{SessionID: res.SessionID, Committed: res.Committed, Attention: res.Attention, Err: res.Err})
		},
		OnBalance: func(id string, bal int64) { r.post(kiosk.BalanceUpdate{SessionID: id, Balance: bal, After: true}) },
		OnStatus: func(s booking.Status) {
			r.post(kiosk.QueueUpdate{QueueStatus: kiosk.QueueStatus{Pending: s.Pending, OldestPending: s.OldestPending,
				NeedsAttention: s.NeedsAttention, LastError: s.LastError, Online: s.Online}})
		},
	})
	if err != nil {
		b.j.Close()
		r.fail("booking: %v", err)
	}
	b.runner, err = kiosk.NewRunner(kiosk.RunnerConfig{
		Engine: kiosk.Config{KioskID: notesKioskID, Currency: "EUR", MinTopup: 0, MaxTopup: notesMax,
			Accepted: []int64{500, 1000, 2000}, AcceptorNames: []string{notesDevice}, Log: r.log.With("part", "engine"),
			Cashboxes: r.cashboxes},
		Journal:   b.j,
		Restore:   kiosk.RestoredFrom(snap),
		Directory: &notesDirectory{client: b.client},
		Booker:    b.booker,
		Acceptors: []devices.Acceptor{v},
		Events:    b.events,
		Cache:     cache,
		Log:       r.log.With("part", "runner"),
		// MyQ answers at once here, even when down (503).
		LookupTimeout: 5 * time.Second,
	})
	if err != nil {
		b.j.Close()
		r.fail("engine: %v", err)
	}
	r.cur.Store(b.runner)

	start := func(name string, f func(ctx context.Context) error) context.CancelFunc {
		ctx, cancel := context.WithCancel(context.Background())
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			if err := f(ctx); err != nil && ctx.Err() == nil {
				b.failed(name, err)
			}
		}()
		return cancel
	}
	b.stopBooker = start("booking", b.booker.Run)
	b.stopRunner = start("engine", b.runner.Run)
	b.stopDevices = start("validator", func(ctx context.Context) error { return v.Run(ctx, b.events) })
	r.b = b
	// Run applies the journal's Restore before it answers its first Ping;
	// until then State() is a blank idle screen (NewRunner does not
	// restore, whatever its doc says), and a session about to be resumed
	// would look like an idle kiosk.
	ctx, cancel := context.WithTimeout(context.Background(), notesWait)
	defer cancel()
	if err := b.runner.Ping(ctx); err != nil {
		r.fail("the runner never answered its first ping: %v", err)
	}
}

// stop ends the boot's parts through their contexts (money intake first, as
// the daemon does) and closes the journal: a restart without SIGTERM's
// courtesy Shutdown, so whatever was open stays open in the journal.
func (r *notesRig) stop() {
	b := r.b
	r.b = nil
	b.stopDevices()
	b.stopRunner()
	b.stopBooker()
	done := make(chan struct{})
	go func() { b.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(notesWait):
		r.t.Errorf("the runner, booker and validator did not stop within %v of their contexts ending", notesWait)
		<-done // a leak would fail goleak anyway; do not return with them running
	}
	b.client.CloseIdleConnections()
	if err := b.j.Close(); err != nil {
		r.t.Errorf("close journal: %v", err)
	}
	b.mu.Lock()
	for _, err := range b.errs {
		r.t.Errorf("a part stopped on its own: %v", err)
	}
	b.mu.Unlock()
}

func (r *notesRig) restart(why string) {
	r.t.Helper()
	r.st.restarts++
	r.st.restartsBy[why]++
	r.log.Info("test: restart", "why", why)
	r.stop()
	r.boot()
}

// fail stops the test with what the kiosk looked like and its log tail.
func (r *notesRig) fail(format string, args ...any) {
	r.t.Helper()
	msg := fmt.Sprintf(format, args...)
	var state string
	if r.b != nil {
		st := r.b.runner.State()
		state = fmt.Sprintf("engine: phase %v session %q total %d max_reached %v queue %+v devices %v",
			st.Phase, st.SessionID, st.Total, st.MaxReached, st.Queue, st.Devices)
	}
	r.t.Fatalf("seed %d (replay: -notes.seed=%d): %s\n%s\nsim: connected %v enabled %v in escrow %d stacked %d\nlog tail:\n%s",
		r.seed, r.seed, msg, state, r.sim.Connected(), r.sim.Enabled(), r.sim.InEscrow(), len(r.sim.Stacked()), r.logTail(40))
}

func (r *notesRig) logTail(n int) string {
	f, err := os.Open(r.logPath)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > 4*n {
			lines = lines[len(lines)-n:]
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// tend plays the technician who plugs the validator back in after a
// disconnect-in-escrow fault fired.
func (r *notesRig) tend() {
	if !r.sim.Connected() {
		if err := r.sim.Reconnect(); err != nil {
			r.fail("reconnect the simulator: %v", err)
		}
		r.st.reconnects++
	}
}

// waitUntil polls cond (tending the validator meanwhile) up to notesWait.
func (r *notesRig) waitUntil(what string, cond func() bool) {
	r.t.Helper()
	deadline := time.Now().Add(notesWait)
	for !cond() {
		r.tend()
		if time.Now().After(deadline) {
			r.fail("timed out after %v waiting for %s", notesWait, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// account credits the notes stacked since the last call to user.
func (r *notesRig) account(user int64) {
	stacked := r.sim.Stacked()
	for _, ch := range stacked[r.accounted:] {
		r.expect[user] += notesValues[ch]
	}
	r.st.stacked = len(stacked)
	r.accounted = len(stacked)
}

// settle brings the kiosk back to the idle screen with no note in the
// validator: a student finishing or dismissing what is on screen.
func (r *notesRig) settle() {
	r.t.Helper()
	var lastKey time.Time
	r.waitUntil("the idle screen with no note in escrow", func() bool {
		st := r.b.runner.State()
		if st.Phase == kiosk.PhaseIdle && r.sim.InEscrow() == 0 {
			return true
		}
		if time.Since(lastKey) < 250*time.Millisecond {
			return false
		}
		lastKey = time.Now()
		switch st.Phase {
		case kiosk.PhaseSession:
			// Enter books money; Esc closes a session with none (the
			// engine ignores it while a stacked note is unsettled).
			if st.Total > 0 {
				r.b.runner.Key(kiosk.KeyEnter)
			} else {
				r.b.runner.Key(kiosk.KeyEsc)
			}
		case kiosk.PhaseCredited, kiosk.PhaseSavedOffline, kiosk.PhaseNotRegistered:
			r.b.runner.Key(kiosk.KeyEnter)
		}
		return false
	})
}

// openSession taps u's card until a session is open and returns its id.
func (r *notesRig) openSession(u myqfake.User) string {
	r.t.Helper()
	var lastTap time.Time
	var id string
	r.waitUntil("a session for "+u.Username, func() bool {
		st := r.b.runner.State()
		if st.Phase == kiosk.PhaseSession {
			id = st.SessionID
			return true
		}
		// Idle or out of service (the validator still connecting): the
		// card is ignored until the kiosk takes money, so tap again.
		if (st.Phase == kiosk.PhaseIdle || st.Phase == kiosk.PhaseOutOfService) && time.Since(lastTap) > time.Second {
			lastTap = time.Now()
			select {
			case r.b.events <- devices.CardRead{Device: "card", Number: u.Cards[0], At: time.Now()}:
			default:
			}
		}
		return false
	})
	if st := r.b.runner.State(); st.User != nil && st.User.ID != u.ID {
		r.fail("session %s opened for user %d, the card is %s's (%d)", id, st.User.ID, u.Username, u.ID)
	}
	return id
}

// restartPoint is the moment of a note's way at which the test restarts the
// runner, booker and validator: each leaves the journal and the device in a
// different state for the next start to sort out.
type restartPoint int

const (
	noRestart        restartPoint = iota
	restartAtInsert               // the note just went in: the host may not have seen it
	restartAtDecided              // the engine journaled the note as pending (told to stack)
	restartAtStacked              // the device stacked it: its credit may not be journaled yet
	restartUnplugged              // the device unplugged itself while holding the note
)

func (p restartPoint) String() string {
	return [...]string{"none", "note inserted", "note decided", "note stacked", "unplugged in escrow"}[p]
}

// restartDuringNote restarts the stack at the moment when names, if the note
// reaches it; it reports whether it restarted.
func (r *notesRig) restartDuringNote(when restartPoint, stackedBefore int) bool {
	r.t.Helper()
	switch when {
	case noRestart:
		return false
	case restartAtInsert:
		r.restart(when.String())
		return true
	}
	// A tight loop without tend: the moments are short, and an unplugged
	// device must stay unplugged until the restart.
	deadline := time.Now().Add(notesWait)
	for time.Now().Before(deadline) {
		var hit bool
		switch when {
		case restartAtDecided:
			hit = len(r.b.j.Ledger().PendingNotes()) > 0
		case restartAtStacked:
			hit = len(r.sim.Stacked()) > stackedBefore
		case restartUnplugged:
			hit = !r.sim.Connected()
		}
		if hit {
			r.restart(when.String())
			return true
		}
		if r.sim.InEscrow() == 0 && r.sim.Connected() && len(r.sim.Stacked()) == stackedBefore {
			return false // returned before the moment came
		}
		if when == restartAtDecided && r.sim.InEscrow() == 0 {
			return false // stacked before we saw it pending
		}
		if when == restartUnplugged && r.sim.InEscrow() == 0 {
			return false // decided before the device was asked to hold
		}
		time.Sleep(time.Millisecond)
	}
	r.fail("the note never settled while waiting to restart at %q", when)
	return false
}

// noteFault is what the simulated validator does right after a note went in.
type noteFault int

const (
	faultNone          noteFault = iota
	faultReject                  // the device gives the note back
	faultResetInEscrow           // a power glitch: the held note comes back out
)

// insert feeds a note of channel ch into the open session and waits until
// the simulator settled it (stacked or returned). when says whether and at
// which moment of the note's way the whole stack restarts; a restart ends the
// session. It reports whether the note was stacked and whether the session
// ended.
func (r *notesRig) insert(ch int, f noteFault, when restartPoint) (stacked, ended bool) {
	r.t.Helper()
	before := len(r.sim.Stacked())
	refused := false
	r.waitUntil("the validator to take a note", func() bool {
		if r.sim.InEscrow() != 0 {
			return false
		}
		err := r.sim.InsertNote(ch)
		if err == nil {
			return true
		}
		if !errors.Is(err, sspsim.ErrNotAccepting) {
			r.fail("insert note: %v", err)
		}
		if st := r.b.runner.State(); st.MaxReached || st.Phase != kiosk.PhaseSession {
			refused = true
			return true
		}
		return false // inhibited for a moment (reset, reconnect, start-up)
	})
	if refused {
		r.st.refusedMax++
		return false, false
	}
	r.st.inserted++
	switch f {
	case faultReject:
		r.sim.Reject()
	case faultResetInEscrow:
		r.sim.ResetDevice()
	}
	if when == restartUnplugged {
		r.sim.DisconnectInEscrow()
	}
	ended = r.restartDuringNote(when, before)
	r.waitUntil("the note stacked or returned", func() bool { return r.sim.InEscrow() == 0 })
	stacked = len(r.sim.Stacked()) > before
	if !stacked {
		r.st.returned++
	}
	return stacked, ended
}

// session runs one top-up of up to n notes for u with the faults the
// generator picks, and returns how many notes it inserted.
func (r *notesRig) session(u myqfake.User, n int, forceRestart string) int {
	r.t.Helper()
	rng := r.rng
	fault := func(name string) { r.st.faults[name]++; r.log.Info("test: fault", "fault", name) }

	if r.myqDown > 0 {
		if r.myqDown--; r.myqDown == 0 {
			r.fake.SetDown(false)
		}
	} else if rng.IntN(12) == 0 {
		r.myqDown = 1 + rng.IntN(3)
		r.fake.SetDown(true)
		fault("myq down")
	}
	if forceRestart == "between" || (forceRestart == "" && rng.IntN(25) == 0) {
		r.restart("between sessions")
		r.settle()
	}
	id := r.openSession(u)
	r.st.sessions++

	// Some sessions go for the limit. "over": 20.00 notes until one would
	// pass max_topup, which the engine must give back. "exact": 20+20+10
	// reach max_topup exactly; the validator must then be inhibited (or
	// the engine give the next note back).
	var plan []int
	switch rng.IntN(10) {
	case 0:
		plan = []int{3, 3, 3}
	case 1:
		plan = []int{3, 3, 2, 1}
	}
	if plan != nil && forceRestart == "" {
		n = len(plan)
	} else {
		plan = nil
	}
	restartAt, restartNote, restartMid := -1, noRestart, false
	switch {
	case forceRestart == "mid":
		restartAt, restartMid = rng.IntN(n), true
	case strings.HasPrefix(forceRestart, "note:"):
		p, _ := strconv.Atoi(strings.TrimPrefix(forceRestart, "note:"))
		restartAt, restartNote = rng.IntN(n), restartPoint(p)
	case forceRestart == "" && rng.IntN(25) == 0:
		restartAt = rng.IntN(n)
		if k := rng.IntN(5); k == 0 {
			restartMid = true
		} else {
			restartNote = restartPoint(k)
		}
	}
	var total int64
	inserted := 0
	for i := 0; i < n; i++ {
		ch := 1 + rng.IntN(3)
		if plan != nil {
			ch = plan[i]
		}
		if rng.IntN(10) == 0 {
			r.sim.DropReplies(1 + rng.IntN(3))
			fault("dropped replies")
		}
		if rng.IntN(15) == 0 {
			r.sim.DisconnectInEscrow()
			fault("disconnect in escrow armed")
		}
		if rng.IntN(25) == 0 {
			r.sim.Jam()
			r.sim.ResetDevice()
			fault("jam cleared by reset")
		}
		var deviceFault noteFault
		switch rng.IntN(16) {
		case 0:
			deviceFault = faultReject
			fault("simulator rejects")
		case 1:
			deviceFault = faultResetInEscrow
			fault("reset with a note in escrow")
		}
		over := total+notesValues[ch] > notesMax
		when := noRestart
		if i == restartAt {
			when = restartNote
		}
		stacked, ended := r.insert(ch, deviceFault, when)
		if ended {
			r.account(u.ID)
			r.settle()
			r.account(u.ID)
			return inserted + 1
		}
		if over {
			r.st.overMax++
			if stacked {
				r.fail("session %s: a %d note on a total of %d was stacked: max_topup is %d", id, notesValues[ch], total, notesMax)
			}
		}
		if stacked {
			total += notesValues[ch]
		}
		inserted++
		r.account(u.ID)
		if stacked {
			want := total
			r.waitUntil(fmt.Sprintf("the screen to count %d", want), func() bool {
				st := r.b.runner.State()
				return st.Phase == kiosk.PhaseSession && st.SessionID == id && st.Total == want
			})
		}
		if i == restartAt && restartMid {
			r.restart("mid-session")
			r.settle()
			r.account(u.ID)
			return inserted
		}
	}
	if total > 0 && rng.IntN(8) == 0 {
		r.fake.DropAnswer(myqfake.RouteCommit, 1)
		fault("commit answer lost")
	}
	r.b.runner.Key(kiosk.KeyEnter)
	if total > 0 {
		var outcome kiosk.Phase
		r.waitUntil("the session booked or queued", func() bool {
			st := r.b.runner.State()
			switch st.Phase {
			case kiosk.PhaseCredited, kiosk.PhaseSavedOffline:
				outcome = st.Phase
				return true
			}
			return false
		})
		if outcome == kiosk.PhaseCredited {
			r.st.committed++
		} else {
			r.st.queued++
		}
	}
	r.settle()
	r.account(u.ID)
	return inserted
}

// TestNotesMoneyFullStack drives many note top-ups through validator,
// engine, journal and booking under injected faults and restarts, and checks
// that MyQ holds exactly the money the validator stacked, each note booked
// once to the student who inserted it.
func TestNotesMoneyFullStack(t *testing.T) {
	seed := *notesSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	notes := 200
	if testing.Short() {
		notes = 60
	}
	if *notesCount > 0 {
		notes = *notesCount
	}
	t.Logf("notes money check: seed %d (replay the fault schedule with -notes.seed=%d), %d notes", seed, seed, notes)
	r := newNotesRig(t, seed)
	r.boot()
	r.settle()

	users := Users()
	// At least one restart of each kind, at fixed points of the run; the
	// generator adds more.
	forced := []string{"between", "mid"}
	for p := restartAtInsert; p <= restartUnplugged; p++ {
		forced = append(forced, "note:"+strconv.Itoa(int(p)))
	}
	next := 0
	for r.st.inserted < notes {
		force := ""
		if next < len(forced) && r.st.inserted >= (next+1)*notes/(len(forced)+1) {
			force = forced[next]
			next++
		}
		n := 1 + r.rng.IntN(3)
		if left := notes - r.st.inserted; n > left {
			n = left
		}
		if force != "" && force != "between" && n < 2 {
			n = 2
		}
		u := users[r.rng.IntN(len(users))]
		r.session(u, n, force)
	}

	// Faults off: MyQ up, the queue flushed, until nothing is pending.
	r.fake.SetDown(false)
	r.myqDown = 0
	r.settle()
	r.account(0) // nothing new may have been stacked outside a session
	if r.expect[0] != 0 {
		r.fail("notes worth %d were stacked with no session open", r.expect[0])
	}
	delete(r.expect, 0)
	r.b.booker.FlushNow()
	var lastFlush time.Time
	r.waitUntil("the booking queue to empty", func() bool {
		if time.Since(lastFlush) > 2*time.Second {
			r.b.booker.FlushNow()
			lastFlush = time.Now()
		}
		return len(r.b.j.Ledger().Pending()) == 0 && r.b.booker.Status().Pending == 0
	})

	r.checkMoney(r.b.j.Ledger())
	// The same must hold for the journal as replayed from disk.
	r.stop()
	j, err := journal.Open(journal.Options{Dir: r.stateDir, Log: r.log.With("part", "journal-replay")})
	if err != nil {
		r.fail("reopen the journal: %v", err)
	}
	snap := j.Ledger()
	j.Close()
	r.checkMoney(snap)

	var faults []string
	for k, v := range r.st.faults {
		faults = append(faults, fmt.Sprintf("%s %d", k, v))
	}
	sort.Strings(faults)
	t.Logf("seed %d: %d notes inserted, %d stacked, %d returned (%d would have passed max_topup), %d refused at max_topup; "+
		"%d sessions (%d credited at once, %d saved offline), %d restarts %v, %d validator reconnects; faults: %s; MyQ commits %d, totals %v",
		seed, r.st.inserted, r.st.stacked, r.st.returned, r.st.overMax, r.st.refusedMax,
		r.st.sessions, r.st.committed, r.st.queued, r.st.restarts, r.st.restartsBy, r.st.reconnects, strings.Join(faults, ", "),
		len(r.fake.Ledger()), r.fake.Totals())
	if r.st.restarts < 3 {
		t.Errorf("only %d restarts: the run must restart at least 3 times", r.st.restarts)
	}
}

// checkMoney is the promise: MyQ holds exactly what the validator stacked,
// once, per student; the journal has nothing pending and its cash-up adds up.
func (r *notesRig) checkMoney(led journal.Snapshot) {
	r.t.Helper()
	t := r.t
	stacked := r.sim.Stacked()
	var stackedSum int64
	pieces := map[string]int64{}
	for _, ch := range stacked {
		stackedSum += notesValues[ch]
		pieces[notesDevice+":"+strconv.Itoa(ch)]++
	}
	totals := r.fake.Totals()
	var committedSum int64
	for _, v := range totals {
		committedSum += int64(v)
	}
	if committedSum != stackedSum {
		t.Errorf("MyQ holds %d in all (%v), the validator stacked %d notes worth %d", committedSum, totals, len(stacked), stackedSum)
	}
	for _, u := range Users() {
		if got, want := int64(totals[u.ID]), r.expect[u.ID]; got != want {
			t.Errorf("user %d (%s): MyQ holds %d, the notes stacked in their sessions are worth %d", u.ID, u.Username, got, want)
		}
	}
	if err := r.fake.Check(); err != nil {
		t.Errorf("MyQ ledger: %v", err)
	}
	for _, c := range r.fake.Ledger() {
		if c.Amount <= 0 || int64(c.Amount) > notesMax {
			t.Errorf("MyQ commit %s of %d (%q): outside (0, max_topup %d]", c.PaymentID, c.Amount, c.Description, notesMax)
		}
		if !strings.HasPrefix(c.Description, notesKioskID+"/") {
			t.Errorf("MyQ commit %s: description %q does not carry this kiosk's reference", c.PaymentID, c.Description)
		}
	}
	if p := led.Pending(); len(p) != 0 {
		t.Errorf("journal: %d sessions still pending: %+v", len(p), p)
	}
	if o := led.OpenSessions(); len(o) != 0 {
		t.Errorf("journal: %d sessions still open: %+v", len(o), o)
	}
	if n := led.PendingNotes(); len(n) != 0 {
		t.Errorf("journal: %d notes still pending: %+v", len(n), n)
	}
	if u := led.Unclaimed(); len(u) != 0 {
		t.Errorf("journal: unclaimed cash %+v: every note was inserted in a session", u)
	}
	cash := led.Cash()
	if cash.Accepted != cash.Committed || cash.Pending != 0 || cash.InSession != 0 || cash.Unclaimed != 0 {
		t.Errorf("journal cash-up does not add up: %+v", cash)
	}
	if cash.Accepted != stackedSum {
		t.Errorf("journal cash-up: accepted %d, the validator stacked %d", cash.Accepted, stackedSum)
	}
	for k, n := range pieces {
		if cash.Pieces[k] != n {
			t.Errorf("journal cash-up: %d pieces of %s, the validator stacked %d", cash.Pieces[k], k, n)
		}
	}
	for k, n := range cash.Pieces {
		if pieces[k] == 0 && n != 0 {
			t.Errorf("journal cash-up: %d pieces of %s that the validator never stacked", n, k)
		}
	}
}
