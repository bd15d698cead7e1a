package booking

// The compound-fault test (issue 11, "Proof"): random histories in which
// faults pile up, through the real engine, the real journal on the strict
// in-memory file system, the real card cache, and the real booking against
// the fake MyQ over loopback HTTPS. The test plays the runner's part itself
// (lookups, acknowledgements, escrow decisions, booking rounds) one step at
// a time, so a history depends on its seed alone, never on the scheduler
// or the wall clock: a failing seed replays the same history.
//
//	go test ./kiosk/booking -run TestCompoundFaults                        # 500 histories
//	COMPOUND_HISTORIES=10000 go test ./kiosk/booking -run TestCompoundFaults -timeout 60m
//	COMPOUND_SEED=1234 go test ./kiosk/booking -run TestCompoundFaults -v    # one history, logged

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/printroom/voucherkiosk/api"
	"github.com/printroom/voucherkiosk/api/myqfake"
	"github.com/printroom/voucherkiosk/devices"
	"github.com/printroom/voucherkiosk/kiosk"
	"github.com/printroom/voucherkiosk/kiosk/journal"
)

const compoundKiosk = "cf"

// compoundServer serves whichever fake MyQ the current history uses, over
// one loopback TLS listener, with listings cut into pages when asked.
type compoundServer struct {
	cur  atomic.Pointer[myqfake.Server]
	page atomic.Int64 // 0: whole listings
	url  string
	ca   string

	vstats voucherStats // added up over the histories (compound_vouchers_test.go)
}

func newCompoundServer(t *testing.T) *compoundServer {
	t.Helper()
	cs := &compoundServer{}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f := cs.cur.Load()
		size := int(cs.page.Load())
		if size <= 0 || r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, "/payments") {
			f.ServeHTTP(w, r)
			return
		}
		pageOf(f, size, w, r)
	})
	srv := httptest.NewUnstartedServer(h)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	cs.url = srv.URL
	cs.ca = filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(cs.ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	return cs
}

// pageOf answers a payment listing with one page of size entries from start.
func pageOf(f *myqfake.Server, size int, w http.ResponseWriter, r *http.Request) {
	rec := httptest.NewRecorder()
	whole := r.Clone(r.Context()) // the fake's whole list, cut here
	q := whole.URL.Query()
	q.Del("start")
	q.Del("limit")
	whole.URL.RawQuery = q.Encode()
	f.ServeHTTP(rec, whole)
	body := rec.Body.Bytes()
	var v struct {
		Payments []json.RawMessage `json:"payments"`
		Count    int               `json:"count"`
	}
	if rec.Code != http.StatusOK || json.Unmarshal(body, &v) != nil {
		w.WriteHeader(rec.Code)
		_, _ = w.Write(body)
		return
	}
	start, _ := strconv.Atoi(r.URL.Query().Get("start"))
	start = min(max(start, 0), len(v.Payments))
	v.Payments = v.Payments[start:min(start+size, len(v.Payments))]
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// The people at the kiosk: each holds one card (a reassignment moves a
// card to another student).
const compoundUsers = 4

func compoundCard(i int) string { return fmt.Sprintf("77%08d", 1000+i) }

// cfValues are the configured coins and notes.
var cfValues = map[string]int64{"cc:1": 50, "cc:2": 100, "cc:3": 200, "pulse:1": 50, "notes:1": 500, "notes:2": 1000}

// history is one random history and everything it checks.
type history struct {
	t    testing.TB
	seed uint64
	rng  *rand.Rand
	logf func(string, ...any)
	log  *slog.Logger
	cs   *compoundServer

	fake   *myqfake.Server
	client *api.Client
	fs     *journal.MemFS
	j      *journal.Journal
	eng    *kiosk.Engine
	b      *Booker
	cache  *kiosk.CardCache
	now    time.Time
	ids    int

	// The world's truth.
	owner      map[string]int64          // card -> who holds it (0: unknown card)
	heldBy     map[string]map[int64]bool // card -> everyone who held it during the history
	box        int64                     // money physically in the cash box
	accepting  bool
	diskFull   bool
	restarting bool
	crashArm   bool // a power cut is armed for the next operations
	ccCounter  int
	ccUnacked  *devices.Credit // a ccTalk credit not yet acknowledged
	note       *noteState      // the note in the validator
	escrowed   int             // note ids
	results    []kiosk.BookingResult

	// What the engine asked to book, by reference, and who tapped the card.
	finishes map[string]journal.Finish
	tapper   map[string]int64 // reference -> the student who tapped the card
	lastTap  map[string]int64 // card -> the student who last tapped it
	sessTap  map[string]int64 // session (lookup) id -> the student who tapped
	finTap   map[string]int64 // card -> the student of its last finished session

	vw *voucherWorld // vouchers (compound_vouchers_test.go)
}

type noteState struct {
	esc     devices.Escrow
	stacked bool // told to stack, not yet credited
	credit  *devices.Credit
	acked   bool
}

func compoundHistories(t *testing.T) (n int, only uint64, one bool) {
	n = 500
	if testing.Short() {
		n = 100
	}
	if v := os.Getenv("COMPOUND_HISTORIES"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n <= 0 {
			t.Fatalf("COMPOUND_HISTORIES=%q: want a positive number", v)
		}
	}
	if v := os.Getenv("COMPOUND_SEED"); v != "" {
		s, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("COMPOUND_SEED=%q: %v", v, err)
		}
		return 1, s, true
	}
	return n, 0, false
}

// TestCompoundFaults runs random histories of card taps (known, unknown,
// reassigned), coins (pulse, ccTalk), notes (escrow, returns, jams, crashes
// in the acknowledgement window), Enter, idle finishes, MyQ faults (down,
// 5xx, lost create and commit answers, small pages, provider disabled),
// kill-style restarts, power cuts, disk-full windows and clock jumps, and
// after each checks that no money was doubled, lost or misdirected. MyQ
// "slow" is latency well inside the request deadline; a request that times
// out is modelled as a lost answer, so no history depends on the scheduler.
func TestCompoundFaults(t *testing.T) {
	n, only, one := compoundHistories(t)
	cs := newCompoundServer(t)
	base := uint64(time.Now().UnixNano())
	if v := os.Getenv("COMPOUND_BASE_SEED"); v != "" {
		base, _ = strconv.ParseUint(v, 10, 64)
	}
	t.Logf("compound faults: %d histories, base seed %d (a failure prints its own seed: rerun it with COMPOUND_SEED=<seed>)", n, base)
	start := time.Now()
	for i := range n {
		seed := base + uint64(i)
		if one {
			seed = only
		}
		if err := runHistory(t, cs, seed, one); err != nil {
			t.Fatalf("history seed %d: %v\nreproduce: COMPOUND_SEED=%d go test ./kiosk/booking -run TestCompoundFaults -v", seed, err, seed)
		}
	}
	t.Logf("compound faults: %d histories in %v", n, time.Since(start).Round(time.Millisecond))
	t.Logf("vouchers: %+v", cs.vstats)
	if err := cs.vstats.check(n); err != nil {
		t.Error(err)
	}
}

func runHistory(t *testing.T, cs *compoundServer, seed uint64, verbose bool) (err error) {
	h := &history{
		t: t, seed: seed, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), cs: cs,
		fs: journal.NewStrictMemFS(), now: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC),
		owner: map[string]int64{}, heldBy: map[string]map[int64]bool{}, finishes: map[string]journal.Finish{}, tapper: map[string]int64{},
		lastTap: map[string]int64{}, sessTap: map[string]int64{}, finTap: map[string]int64{},
		logf: func(string, ...any) {}, log: slog.New(slog.DiscardHandler),
	}
	if verbose {
		h.logf = t.Logf
		if os.Getenv("COMPOUND_LOG") != "" {
			h.log = slog.New(slog.NewTextHandler(os.Stderr, nil))
		}
	}
	h.fake = myqfake.New(myqfake.Options{})
	h.fake.AddClient(testClient, testSecret, "credit users")
	for i := 1; i <= compoundUsers; i++ {
		h.fake.AddUser(myqfake.User{ID: int64(i), Username: fmt.Sprintf("u%d", i), FullName: fmt.Sprintf("User %d", i), Cards: []string{compoundCard(i)}})
		h.owner[compoundCard(i)] = int64(i)
		h.heldBy[compoundCard(i)] = map[int64]bool{int64(i): true}
	}
	h.setupVouchers()
	cs.cur.Store(h.fake)
	cs.page.Store(0)
	h.client, err = api.New(api.Config{URL: cs.url, ClientID: testClient, ClientSecret: testSecret, CAFile: cs.ca,
		Timeout: 5 * time.Second, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	defer h.client.CloseIdleConnections()
	h.cache, err = kiosk.OpenCardCache(filepath.Join(t.TempDir(), "cards.cache"), nil)
	if err != nil {
		return err
	}
	defer func() {
		if h.j != nil {
			h.j.Close()
		}
	}()
	if err := h.start(); err != nil {
		return err
	}
	steps := 20 + h.rng.IntN(40)
	for i := 0; i < steps; i++ {
		if err := h.step(i); err != nil {
			return fmt.Errorf("step %d: %w", i, err)
		}
	}
	if err := h.settle(); err != nil {
		return fmt.Errorf("settle: %w", err)
	}
	return h.check()
}

func (h *history) cfg() kiosk.Config {
	return kiosk.Config{
		KioskID: compoundKiosk, Currency: "EUR", MinTopup: 100, MaxTopup: 5000,
		IdleFinish: 20 * time.Second, CardTimeout: 30 * time.Second, MessageFor: 10 * time.Second,
		BookingWait: 8 * time.Second, NoteWait: 5 * time.Minute, JournalRetry: 5 * time.Second, ClaimWindow: time.Minute,
		Accepted:      []int64{50, 100, 200, 500, 1000},
		AcceptorNames: []string{"cc", "pulse", "notes"}, Escrowing: []string{"notes"},
		Voucher: kiosk.VoucherRules{Enabled: true},
		Log:     h.log,
	}
}

// start opens the journal and builds the engine and the booker, the way the
// daemon starts (after a kill or a power cut).
func (h *history) start() error {
	j, err := journal.Open(journal.Options{FS: h.fs, Dir: "/state", CompactAfter: -1})
	if err != nil {
		return fmt.Errorf("journal open: %w", err)
	}
	h.j = j
	h.eng = kiosk.NewEngine(h.cfg(), j, h.now, func() string {
		h.ids++
		return fmt.Sprintf("%016x", h.rng.Uint64()^uint64(h.ids))
	})
	b, err := New(Config{Client: h.client, Journal: j, KioskID: compoundKiosk, Log: slog.New(slog.DiscardHandler),
		Now: func() time.Time { return h.now }, Jitter: func(time.Duration) time.Duration { return 0 },
		Values: cfValues, MaxTopup: 5000,
		OnResult: func(r Result) {
			h.results = append(h.results, kiosk.BookingResult{SessionID: r.SessionID, Committed: r.Committed, Attention: r.Attention, Err: r.Err})
		}})
	if err != nil {
		return err
	}
	h.b = b
	b.load()
	rs := kiosk.RestoredFrom(j.Ledger())
	h.eng.RestoreUnacked(rs.Unacked)
	h.accepting = false
	if err := h.exec(h.eng.Restore(rs.Open, rs.Unclaimed, rs.PendingNotes)); err != nil {
		return err
	}
	return h.startVouchers()
}

// restart is a kill (power=false: the page cache survives) or a power cut.
func (h *history) restart(power bool) error {
	h.j.Close()
	if power {
		h.fs.Crash()
	}
	h.fs.SetWriteError(nil)
	h.diskFull, h.crashArm = false, false
	h.results = nil
	// A clock with no battery: anywhere within two hours of the truth.
	h.now = h.now.Add(time.Duration(h.rng.IntN(4*3600)-2*3600) * time.Second)
	if err := h.start(); err != nil {
		return err
	}
	h.restarting = true
	defer func() { h.restarting = false }()
	// The validator's driver is handed the journal's pending notes at start
	// and reports returned those it does not hold (bill.Config.PendingNotes).
	for _, pn := range h.j.Ledger().PendingNotes() {
		if h.note == nil || h.note.esc.NoteID != pn.NoteID {
			if err := h.handle(devices.NoteReturned{Device: "notes", NoteID: pn.NoteID}); err != nil {
				return err
			}
		}
	}
	// The devices report again what nobody acknowledged.
	if c := h.ccUnacked; c != nil {
		h.ccUnacked = nil
		if c.Counter > h.j.Ledger().Counters()["cc"] {
			if err := h.credit(*c); err != nil {
				return err
			}
		}
	}
	if n := h.note; n != nil {
		switch {
		case n.credit != nil && !n.acked:
			// Crash in the EVENT_ACK window: the CREDIT comes again,
			// without the note identity the driver lost.
			c := *n.credit
			c.NoteID = ""
			if err := h.noteCredit(c); err != nil {
				return err
			}
		case n.stacked && n.credit == nil:
			// Stacking when the kiosk died: the validator finishes it, or
			// gives it back at its reset.
			if h.rng.IntN(2) == 0 {
				c := devices.Credit{Device: "notes", Key: n.esc.Key, Amount: n.esc.Amount}
				h.box += c.Amount
				n.credit = &c
				if err := h.noteCredit(c); err != nil {
					return err
				}
			} else {
				h.note = nil
				if err := h.handle(devices.NoteReturned{Device: "notes"}); err != nil {
					return err
				}
			}
		default:
			h.note = nil
		}
	}
	return nil
}

func (h *history) handle(ev any) error { return h.exec(h.eng.Handle(ev, h.now)) }

// exec carries out the engine's commands as the runner does.
func (h *history) exec(cmds []kiosk.Command) error {
	for _, c := range cmds {
		switch c := c.(type) {
		case kiosk.SetAccepting:
			h.accepting = c.On
		case kiosk.AckCredit:
			c.Ack()
		case kiosk.Decide:
			if h.note != nil && h.note.esc.NoteID == c.Escrow.NoteID {
				if c.Decision == devices.Stack {
					h.note.stacked = true
				} else {
					h.note = nil // back to the student
				}
			}
		case kiosk.Book:
			h.finishes[c.Finish.Reference] = c.Finish
			tap, ok := h.sessTap[c.SessionID]
			if !ok {
				tap = h.finTap[c.Finish.Card] // a follow-on of the card's last session
			}
			h.tapper[c.Finish.Reference] = tap
			h.finTap[c.Finish.Card] = tap
			h.logf("  book %s card %s user %d total %d reason %s (tapped by %d, lookup known %v)", c.SessionID, c.Finish.Card, c.Finish.UserID, c.Finish.Total, c.Finish.Reason, tap, ok)
			h.b.Book(c.SessionID, c.Finish)
		case kiosk.CacheUser:
			if err := h.cache.Put(c.Card, c.User, h.now); err != nil {
				return err
			}
		case kiosk.RedeemVoucher, kiosk.CommitVoucher, kiosk.CancelVoucher:
			if err := h.voucherCommand(c); err != nil {
				return err
			}
		case kiosk.LookupCard:
			h.sessTap[c.SessionID] = h.lastTap[c.Card]
			res := kiosk.LookupResult{SessionID: c.SessionID, Card: c.Card}
			u, err := h.client.FindUserByCard(context.Background(), c.Card)
			switch {
			case err == nil:
				res.User = &kiosk.User{ID: u.ID, Username: u.Username, FullName: u.FullName}
			case errors.Is(err, api.ErrUserNotFound):
				res.NotFound = true
				if err := h.cache.Remove(c.Card); err != nil {
					return err
				}
			default:
				res.Err = err
				if cu, ok := h.cache.Get(c.Card, h.now); ok {
					res.User = &cu
				}
			}
			h.logf("  lookup %s card %s: user %v notfound %v err %v", c.SessionID, c.Card, res.User != nil, res.NotFound, res.Err)
			if err := h.handle(res); err != nil {
				return err
			}
		default:
			return fmt.Errorf("unknown command %T", c)
		}
	}
	return nil
}

// ackWindowCrash: the kiosk dies between the credit's fsync and the
// device's acknowledgement (one credit in eight, not while restarting).
func (h *history) ackWindowCrash() bool {
	if h.restarting {
		return false
	}
	return h.rng.IntN(8) == 0
}

func (h *history) credit(c devices.Credit) error {
	cc := c
	acked := false
	crash := c.Device == "cc" && h.ackWindowCrash()
	cc.Ack = func() { acked = !crash }
	if err := h.handle(cc); err != nil {
		return err
	}
	if !acked && c.Device == "cc" {
		h.ccUnacked = &c
	}
	if crash {
		h.logf("  crash in the acknowledgement window")
		return h.restart(false)
	}
	return nil
}

func (h *history) noteCredit(c devices.Credit) error {
	n := h.note
	crash := h.ackWindowCrash()
	c.Ack = func() {
		if h.note == n && !crash {
			n.acked = true
		}
	}
	if err := h.handle(c); err != nil {
		return err
	}
	if crash {
		h.logf("  crash in the EVENT_ACK window")
		return h.restart(false)
	}
	if n.acked {
		h.note = nil // the validator is free for the next note
	}
	return nil
}

func (h *history) journalOK() bool {
	return !h.diskFull && !h.crashArm && !h.eng.JournalFailing()
}

// step is one random event of the history.
func (h *history) step(i int) error {
	if h.rng.IntN(2) == 0 {
		if err := h.voucherPump(false); err != nil {
			return err
		}
	}
	if h.rng.IntN(100) < 15 {
		return h.voucherStep(i)
	}
	r := h.rng.IntN(100)
	switch {
	case r < 14: // a student taps their card
		u := 1 + h.rng.IntN(compoundUsers)
		card := compoundCard(u)
		if h.owner[card] == 0 {
			return nil // that card is nobody's now
		}
		h.lastTap[card] = h.owner[card]
		h.logf("step %d: user %d taps %s", i, h.owner[card], card)
		return h.handle(devices.CardRead{Device: "card", Number: card})
	case r < 16: // an unknown card
		h.logf("step %d: unknown card", i)
		return h.handle(devices.CardRead{Device: "card", Number: "9900000001"})
	case r < 18: // a card changes hands in MyQ (the cache still says the old owner)
		from := 1 + h.rng.IntN(compoundUsers)
		to := 1 + h.rng.IntN(compoundUsers)
		card := compoundCard(from)
		if h.owner[card] == int64(to) || h.owner[card] == 0 {
			return nil
		}
		prev := h.owner[card]
		h.owner[card] = int64(to)
		h.heldBy[card][int64(to)] = true
		for _, u := range []int{int(prev), to} {
			var cards []string
			for i := 1; i <= compoundUsers; i++ {
				if h.owner[compoundCard(i)] == int64(u) {
					cards = append(cards, compoundCard(i))
				}
			}
			h.fake.AddUser(myqfake.User{ID: int64(u), Username: fmt.Sprintf("u%d", u), FullName: fmt.Sprintf("User %d", u), Cards: cards})
		}
		h.logf("step %d: card %s moves to user %d", i, card, to)
	case r < 30: // a ccTalk coin (inhibitable, acknowledged through its event counter)
		if !h.accepting || h.ccUnacked != nil {
			return nil
		}
		key := 1 + h.rng.IntN(3)
		amt := cfValues[fmt.Sprintf("cc:%d", key)]
		h.ccCounter++
		h.box += amt
		h.logf("step %d: ccTalk coin %d", i, amt)
		return h.credit(devices.Credit{Device: "cc", Key: strconv.Itoa(key), Amount: amt, Counter: h.ccCounter})
	case r < 36: // a pulse coin: cannot be refused, lands whenever it is inserted
		if !h.journalOK() {
			return nil // see the test's doc: a pulse during a journal failure and a power cut is the one loss left
		}
		h.box += 50
		h.logf("step %d: pulse coin (phase %v)", i, h.eng.State().Phase)
		err := h.credit(devices.Credit{Device: "pulse", Key: "1", Amount: 50})
		h.logf("  held %d, unclaimed on screen %d, journal failing %v", h.eng.HeldMoney(), h.eng.State().Unclaimed, h.eng.JournalFailing())
		return err
	case r < 44: // a note: into escrow, then stacked and credited, or returned
		if h.note == nil {
			if !h.accepting {
				return nil
			}
			h.escrowed++
			key := 1 + h.rng.IntN(2)
			esc := devices.Escrow{Device: "notes", NoteID: fmt.Sprintf("n%d", h.escrowed), Key: strconv.Itoa(key), Amount: cfValues[fmt.Sprintf("notes:%d", key)]}
			h.note = &noteState{esc: esc}
			h.logf("step %d: note %s (%d) in escrow", i, esc.NoteID, esc.Amount)
			return h.handle(esc)
		}
		n := h.note
		switch {
		case n.stacked && n.credit == nil && h.rng.IntN(5) > 0:
			c := devices.Credit{Device: "notes", Key: n.esc.Key, Amount: n.esc.Amount, NoteID: n.esc.NoteID}
			h.box += c.Amount
			n.credit = &c
			h.logf("step %d: note %s stacked, credit", i, n.esc.NoteID)
			return h.noteCredit(c)
		case n.stacked && n.credit == nil: // jammed, given back
			h.note = nil
			h.logf("step %d: note %s returned", i, n.esc.NoteID)
			return h.handle(devices.NoteReturned{Device: "notes", NoteID: n.esc.NoteID})
		case n.credit != nil && !n.acked:
			return nil // waits for its acknowledgement (journal failing)
		}
	case r < 54: // Enter, or now and then Esc
		k := kiosk.KeyEnter
		if h.rng.IntN(6) == 0 {
			k = kiosk.KeyEsc
		}
		return h.handle(kiosk.KeyPress{Key: k})
	case r < 66: // time passes
		h.now = h.now.Add(time.Duration(1+h.rng.IntN(40)) * time.Second)
		return h.handle(kiosk.Tick{})
	case r < 74: // a booking round
		return h.bookRound()
	case r < 82: // MyQ misbehaves
		switch h.rng.IntN(8) {
		case 0:
			h.vw.down = h.rng.IntN(2) == 0
			h.fake.SetDown(h.vw.down)
		case 1:
			h.fake.FailNext(myqfake.RouteCommit, 1+h.rng.IntN(2), 503)
		case 2:
			h.fake.DropAnswer(myqfake.RouteCommit, 1)
		case 3:
			h.fake.DropAnswer(myqfake.RouteCreate, 1)
		case 4:
			h.fake.SetProviderEnabled(h.rng.IntN(2) == 0)
		case 5:
			h.cs.page.Store(int64(h.rng.IntN(3))) // pages of 1 or 2, or whole
		case 6:
			h.fake.FailNext(myqfake.RouteCreate, 1, 500)
		case 7:
			// Slow, but well inside the client's deadline: a slow answer
			// that times out is a lost answer (cases 2 and 3), which keeps
			// the history independent of the scheduler.
			if h.rng.IntN(2) == 0 {
				h.fake.SetLatency(2 * time.Millisecond)
			} else {
				h.fake.SetLatency(0)
			}
		}
	case r < 86: // the disk fills up, or has room again
		h.diskFull = !h.diskFull
		if h.diskFull {
			h.fs.SetWriteError(errors.New("no space left on device"))
		} else {
			h.fs.SetWriteError(nil)
		}
		h.logf("step %d: disk full %v", i, h.diskFull)
	case r < 92: // kill -9
		h.logf("step %d: kill", i)
		return h.restart(false)
	default: // power cut a few operations from now, during a booking round or a step
		h.crashArm = true
		h.fs.CrashAfter(h.rng.IntN(6))
		h.logf("step %d: power cut armed", i)
		if h.rng.IntN(2) == 0 {
			if err := h.bookRound(); err != nil {
				return err
			}
		} else {
			h.now = h.now.Add(time.Duration(1+h.rng.IntN(30)) * time.Second)
			if err := h.handle(kiosk.Tick{}); err != nil {
				return err
			}
		}
		return h.restart(true)
	}
	return nil
}

// bookRound attempts every pending session once, one after the other, as
// Run would (minus its timers), then tells the engine the results.
func (h *history) bookRound() error {
	b := h.b
	b.mu.Lock()
	var es []*entry
	for _, e := range b.order {
		if !e.done && !e.inflight {
			e.inflight = true
			b.inflight++
			es = append(es, e)
		}
	}
	b.mu.Unlock()
	for _, e := range es {
		b.attempt(context.Background(), e)
	}
	res := h.results
	h.results = nil
	for _, r := range res {
		if err := h.handle(r); err != nil {
			return err
		}
	}
	return h.voucherSweep() // Run's retries of unresolved vouchers
}

// settle ends the history: every fault healed, the devices finish what they
// hold, a restart, the sessions finish, and booking runs until nothing is
// left but what needs a technician.
func (h *history) settle() error {
	h.fake.SetDown(false)
	h.vw.down = false
	h.fake.DropAnswer(myqfake.RouteVoucherCreate, 0)
	h.fake.DropAnswer(myqfake.RouteVoucherCommit, 0)
	h.fake.SetLatency(0)
	h.fake.SetProviderEnabled(true)
	h.fake.FailNext(myqfake.RouteCommit, 0, 0)
	h.fake.FailNext(myqfake.RouteCreate, 0, 0)
	h.fake.DropAnswer(myqfake.RouteCommit, 0)
	h.fake.DropAnswer(myqfake.RouteCreate, 0)
	h.cs.page.Store(0)
	if err := h.restart(false); err != nil {
		return err
	}
	for range 3 {
		if n := h.note; n != nil && n.stacked && n.credit == nil {
			c := devices.Credit{Device: "notes", Key: n.esc.Key, Amount: n.esc.Amount, NoteID: n.esc.NoteID}
			h.box += c.Amount
			n.credit = &c
			if err := h.noteCredit(c); err != nil {
				return err
			}
		}
		h.now = h.now.Add(10 * time.Minute)
		if err := h.handle(kiosk.Tick{}); err != nil {
			return err
		}
	}
	if h.note != nil && !h.note.stacked {
		h.note = nil // left in escrow unanswered: the validator gives it back
	}
	for range 4 {
		if err := h.bookRound(); err != nil {
			return err
		}
		h.now = h.now.Add(time.Minute)
		if err := h.handle(kiosk.Tick{}); err != nil {
			return err
		}
	}
	return h.settleVouchers()
}

// check holds the history against the world's truth.
func (h *history) check() error {
	l := h.j.Ledger()
	cash := l.Cash()
	// 1. The cash box equation.
	if cash.Accepted != h.box {
		return fmt.Errorf("the journal accepted %d, the cash box holds %d (cash %+v)", cash.Accepted, h.box, cash)
	}
	if sum := cash.Committed + cash.Pending + cash.Attention + cash.InSession + cash.Unclaimed; sum != h.box {
		return fmt.Errorf("cash box %d != committed %d + pending %d + needs attention %d + in session %d + unclaimed %d",
			h.box, cash.Committed, cash.Pending, cash.Attention, cash.InSession, cash.Unclaimed)
	}
	if len(l.OpenSessions()) != 0 {
		return fmt.Errorf("sessions still open after settling: %+v", l.OpenSessions())
	}
	for _, p := range l.Pending() {
		if p.Attention == "" {
			return fmt.Errorf("session %s still pending without attention after settling (payment %q)", p.ID, p.PaymentID)
		}
	}
	// 2. No reference committed twice; every commit is ours, to the
	// student who tapped the card, for the money of that session.
	if err := h.fake.Check(); err != nil {
		return err
	}
	got := map[int64]int64{}
	seen := map[string]bool{}
	var myq int64
	for _, c := range h.fake.Ledger() {
		if c.Voucher != "" {
			continue // checkVouchers; never part of the cash box
		}
		if seen[c.Description] {
			return fmt.Errorf("reference %s committed twice", c.Description)
		}
		seen[c.Description] = true
		f, ok := h.finishes[c.Description]
		if !ok {
			return fmt.Errorf("MyQ committed %s under reference %q the engine never finished", c.Amount, c.Description)
		}
		// A session opened while MyQ was unreachable (on the card alone, or
		// from the card cache) is booked to whoever MyQ says holds the card
		// when it answers, and only if that is the cached student: if the
		// card changed hands and back in between, the kiosk cannot know
		// who tapped it. That one case is allowed here (and named in
		// docs/ARCHITECTURE.md "Crash windows"); every other commit must
		// reach the student who tapped. MyQ answers at booking, and the
		// card may have moved again since: whoever held it then counts,
		// not only its holder at the end of the history.
		if tap := h.tapper[c.Description]; tap != c.UserID && !(f.Offline && h.heldBy[f.Card][c.UserID]) {
			return fmt.Errorf("reference %s (%s) booked to user %d, but user %d tapped the card", c.Description, c.Amount, c.UserID, tap)
		}
		if int64(c.Amount) != f.Total {
			return fmt.Errorf("reference %s committed %s, the session holds %d", c.Description, c.Amount, f.Total)
		}
		got[c.UserID] += int64(c.Amount)
		myq += int64(c.Amount)
	}
	// 3. MyQ's ledger per student equals the cash of the sessions that
	// student's card opened and the journal says are committed.
	want := map[int64]int64{}
	for ref, f := range h.finishes {
		info, ok := l.Session(strings.TrimPrefix(ref, compoundKiosk+"/"))
		if ok && info.State == journal.StateCommitted {
			u := h.tapper[ref]
			if f.Offline && info.Resolved != nil {
				u = info.Resolved.UserID // opened offline: see above
			}
			want[u] += f.Total
		}
	}
	for u := int64(0); u <= compoundUsers; u++ {
		if got[u] != want[u] {
			return fmt.Errorf("user %d: MyQ holds %d, the sessions their card opened and the journal says are committed hold %d", u, got[u], want[u])
		}
	}
	if myq != cash.Committed {
		return fmt.Errorf("MyQ's cash ledger holds %d, the journal says %d is committed", myq, cash.Committed)
	}
	return h.checkVouchers()
}
