package kiosk

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/printroom/voucherkiosk/devices"
	"github.com/printroom/voucherkiosk/kiosk/journal"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var t0 = time.Date(2026, 11, 23, 22, 15, 30, 0, time.UTC)

// testJournal is the real journal (on the strict in-memory FS) behind a
// switch that refuses appends without writing, the way a disk that is full
// and then freed looks to the engine. (The real journal, once a write has
// failed, refuses everything until its Probe heals it: see
// TestRealJournalHealsAndKioskReturnsToService.)
type testJournal struct {
	mu      sync.Mutex
	j       *journal.Journal
	fail    error
	written []journal.Record
}

func (t *testJournal) Append(recs ...journal.Record) (uint64, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.fail != nil {
		return 0, t.fail
	}
	seq, err := t.j.Append(recs...)
	if err != nil {
		return 0, err
	}
	for i, r := range recs {
		r.Seq = seq + uint64(i)
		t.written = append(t.written, r)
	}
	return seq, nil
}

// Probe reports the switch, then asks (and so may heal) the real journal.
func (t *testJournal) Probe() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.fail != nil {
		return t.fail
	}
	return t.j.Probe()
}

func (t *testJournal) setFail(err error) {
	t.mu.Lock()
	t.fail = err
	t.mu.Unlock()
}

func (t *testJournal) kinds(k journal.Kind) []journal.Record {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []journal.Record
	for _, r := range t.written {
		if r.Kind == k {
			out = append(out, r)
		}
	}
	return out
}

func testLog(t testing.TB) *slog.Logger {
	if os.Getenv("KIOSK_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

func openJournal(t testing.TB, fs *journal.MemFS) *journal.Journal {
	t.Helper()
	j, err := journal.Open(journal.Options{FS: fs, Dir: "/state", CompactAfter: -1})
	if err != nil {
		t.Fatalf("open journal: %v", err)
	}
	t.Cleanup(func() { j.Close() })
	return j
}

func testConfig() Config {
	return Config{
		KioskID: "lib", Currency: "EUR", MinTopup: 100, MaxTopup: 5000,
		IdleFinish: 20 * time.Second, CardTimeout: 30 * time.Second,
		MessageFor: 15 * time.Second, BookingWait: 8 * time.Second,
		Accepted:   []int64{10, 50, 100, 200, 500, 1000, 2000},
		CardReader: "card", AcceptorNames: []string{"coins", "notes"}, Escrowing: []string{"notes"},
	}
}

type harness struct {
	t    testing.TB
	fs   *journal.MemFS
	tj   *testJournal
	e    *Engine
	now  time.Time
	last []Command
	ids  int
}

func newHarness(t testing.TB, cfg Config) *harness {
	h := &harness{t: t, fs: journal.NewStrictMemFS(), now: t0}
	h.tj = &testJournal{j: openJournal(t, h.fs)}
	cfg.Log = testLog(t)
	h.e = NewEngine(cfg, h.tj, h.now, h.newID)
	return h
}

func (h *harness) newID() string {
	h.ids++
	return fmt.Sprintf("%04x", h.ids)
}

// restart builds a new engine from the journal's ledger, the way the daemon
// starts after a crash (the journal reopened from what the FS holds).
func (h *harness) restart(cfg Config) []Command {
	h.tj.j.Close()
	h.tj = &testJournal{j: openJournal(h.t, h.fs)}
	cfg.Log = testLog(h.t)
	h.e = NewEngine(cfg, h.tj, h.now, h.newID)
	rs := RestoredFrom(h.tj.j.Ledger())
	h.e.RestoreUnacked(rs.Unacked)
	h.last = h.e.Restore(rs.Open, rs.Unclaimed, rs.PendingNotes)
	return h.last
}

func (h *harness) do(ev any) []Command {
	h.last = h.e.Handle(ev, h.now)
	return h.last
}

func (h *harness) adv(d time.Duration) []Command {
	h.now = h.now.Add(d)
	return h.do(Tick{})
}

func (h *harness) st() State { return h.e.State() }

func (h *harness) coin(amount int64) []Command {
	return h.do(devices.Credit{Device: "coins", Amount: amount, Key: "k", At: h.now})
}

var alice = User{ID: 7, Username: "alice", FullName: "Alice Novak", Balance: ptr(int64(1250))}

func ptr[T any](v T) *T { return &v }

// open taps a card and answers the lookup with u (nil: not found).
func (h *harness) open(card string, u *User) {
	h.t.Helper()
	cmds := h.do(devices.CardRead{Device: "card", Number: card})
	lc, ok := find[LookupCard](cmds)
	if !ok {
		h.t.Fatalf("card read gave no LookupCard: %#v (phase %v)", cmds, h.st().Phase)
	}
	if u == nil {
		h.do(LookupResult{SessionID: lc.SessionID, Card: card, NotFound: true})
		return
	}
	h.do(LookupResult{SessionID: lc.SessionID, Card: card, User: u})
	if h.st().Phase != PhaseSession {
		h.t.Fatalf("after lookup phase %v, want session", h.st().Phase)
	}
}

func find[T Command](cmds []Command) (T, bool) {
	for _, c := range cmds {
		if v, ok := c.(T); ok {
			return v, true
		}
	}
	var z T
	return z, false
}

func accepting(cmds []Command) (on, set bool) {
	a, ok := find[SetAccepting](cmds)
	return a.On, ok
}

func decodeFinish(t testing.TB, r journal.Record) journal.Finish {
	t.Helper()
	var f journal.Finish
	if err := r.Decode(&f); err != nil {
		t.Fatal(err)
	}
	return f
}

var errDisk = errors.New("no space left on device")
