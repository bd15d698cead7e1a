package kiosk

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/printroom/voucherkiosk/devices"
	"github.com/printroom/voucherkiosk/kiosk/journal"
)

func capacityConfig() Config {
	cfg := testConfig()
	cfg.MaxTopup = 0
	cfg.Cashboxes = []Cashbox{
		{Device: "coins", Capacity: 4, CanInhibit: false},                            // pulse: cannot refuse
		{Device: "notes", Capacity: 10, NearFull: 90, Notes: true, CanInhibit: true}, // SSP
	}
	return cfg
}

// stackNote offers a note in escrow, checks the engine stacks it, and
// credits it.
func (h *harness) stackNote(id string) {
	h.t.Helper()
	dec := make(chan devices.EscrowDecision, 1)
	cmds := h.do(devices.Escrow{Device: "notes", NoteID: id, Key: "1", Amount: 500, Decide: dec})
	if d, ok := find[Decide](cmds); !ok || d.Decision != devices.Stack {
		h.t.Fatalf("note %s: decision %+v, want stack", id, d)
	}
	h.do(devices.Credit{Device: "notes", NoteID: id, Key: "1", Amount: 500})
}

func fillOf(st State, dev string) CashboxFill {
	for _, f := range st.Cashboxes {
		if f.Device == dev {
			return f
		}
	}
	return CashboxFill{}
}

// A note box at its near-full threshold stops taking notes while the coins
// go on; the screen says so; a restart keeps it so; a cash-up ends it.
func TestCashboxNearFullRefusesNotesNotCoins(t *testing.T) {
	cfg := capacityConfig()
	h := newHarness(t, cfg)
	h.open("0001", &alice)
	for i := range 8 {
		h.stackNote(fmt.Sprintf("n%d", i))
	}
	if a, ok := find[SetAccepting](h.last); ok && slices.Contains(a.Refuse, "notes") {
		t.Fatalf("at 80%% the notes are refused: %+v", a)
	}
	st := h.st()
	if f := fillOf(st, "notes"); f.Pieces != 8 || f.Percent != 80 || f.NearFull || st.NotesRefused {
		t.Fatalf("at 8 of 10: fill %+v, notes refused %v", f, st.NotesRefused)
	}

	h.stackNote("n8") // 9 of 10 = 90 %: the threshold
	a, ok := find[SetAccepting](h.last)
	if !ok || !a.On || !slices.Equal(a.Refuse, []string{"notes"}) {
		t.Fatalf("at 90%%: SetAccepting %+v (sent %v), want on with notes refused", a, ok)
	}
	st = h.st()
	if !st.NotesRefused || st.CoinsRefused {
		t.Fatalf("screen: notes refused %v, coins refused %v; want notes only", st.NotesRefused, st.CoinsRefused)
	}
	if f := fillOf(st, "notes"); !f.NearFull || !f.Refusing || f.Percent != 90 {
		t.Fatalf("notes fill %+v", f)
	}

	// Coins fill their box past capacity: a pulse acceptor cannot refuse,
	// so it is near full but never refusing and coins are still "accepted".
	for range 5 {
		h.coin(100)
	}
	st = h.st()
	if f := fillOf(st, "coins"); f.Pieces != 5 || f.Percent != 125 || !f.NearFull || f.Refusing || st.CoinsRefused {
		t.Fatalf("coins fill %+v, coins refused %v", f, st.CoinsRefused)
	}
	if st.Total != 9*500+5*100 {
		t.Fatalf("total %d: the money taken before and after near-full must all count", st.Total)
	}

	// After a crash the ledger's pieces (what the daemon restores from)
	// keep the box refusing.
	h.now = h.now.Add(time.Minute)
	h.restart(cfg)
	if h.st().Cashboxes != nil && fillOf(h.st(), "notes").Pieces != 0 {
		t.Fatalf("test bug: the engine counted before being told")
	}
	pieces := h.tj.j.Ledger().Cash().Pieces
	h.do(CashboxPieces{Pieces: pieces})
	if f := fillOf(h.st(), "notes"); f.Pieces != 9 || !f.Refusing {
		t.Fatalf("after restart, notes fill %+v (ledger pieces %v)", f, pieces)
	}
	if a, ok := find[SetAccepting](h.last); !ok || !slices.Equal(a.Refuse, []string{"notes"}) {
		t.Fatalf("after restart: SetAccepting %+v (sent %v)", a, ok)
	}

	// The cash-up empties the boxes: notes are taken again.
	h.adv(time.Minute) // restored session finishes and books
	if _, err := h.tj.Append(journal.New(journal.KindCashup, "", h.now, journal.Cashup{By: "tech", Totals: h.tj.j.Ledger().Cash()})); err != nil {
		t.Fatal(err)
	}
	h.do(CashboxPieces{Pieces: h.tj.j.Ledger().Cash().Pieces})
	st = h.st()
	if f := fillOf(st, "notes"); f.Pieces != 0 || f.Refusing || st.NotesRefused {
		t.Fatalf("after cash-up: notes fill %+v, refused %v", f, st.NotesRefused)
	}
	h.do(KeyPress{Key: KeyEnter})
	h.open("0002", &alice)
	a, ok = find[SetAccepting](h.last)
	if !ok || !a.On || len(a.Refuse) != 0 {
		t.Fatalf("new session after cash-up: SetAccepting %+v (sent %v), want every acceptor on", a, ok)
	}
}

// The runner inhibits exactly the refusing acceptor.
func TestRunnerKeepsRefusingAcceptorInhibited(t *testing.T) {
	coins, notes := &namedAcceptor{name: "coins"}, &namedAcceptor{name: "notes"}
	r := &Runner{cfg: RunnerConfig{Acceptors: []devices.Acceptor{coins, notes}}}
	r.exec(t.Context(), nil, []Command{SetAccepting{On: true, Refuse: []string{"notes"}}})
	if !coins.on || notes.on {
		t.Fatalf("coins on %v, notes on %v; want coins only", coins.on, notes.on)
	}
	r.exec(t.Context(), nil, []Command{SetAccepting{On: true}})
	if !coins.on || !notes.on {
		t.Fatalf("after cash-up: coins on %v, notes on %v", coins.on, notes.on)
	}
}

// namedAcceptor is an acceptor that only remembers whether it may take money.
type namedAcceptor struct {
	name string
	on   bool
}

func (f *namedAcceptor) Name() string                                    { return f.name }
func (f *namedAcceptor) Run(context.Context, chan<- devices.Event) error { return nil }
func (f *namedAcceptor) CanInhibit() bool                                { return true }
func (f *namedAcceptor) SetAccepting(on bool)                            { f.on = on }

// A coin acceptor that can be inhibited (ccTalk) stops at its threshold the
// same way, and the screen then says coins are not taken, notes are.
func TestCashboxNearFullInhibitsCoinAcceptor(t *testing.T) {
	cfg := testConfig()
	cfg.MaxTopup = 0
	cfg.Cashboxes = []Cashbox{
		{Device: "coins", Capacity: 20, CanInhibit: true}, // default threshold: 95 % = 19 pieces
		{Device: "notes", Capacity: 300, Notes: true, CanInhibit: true},
	}
	h := newHarness(t, cfg)
	h.open("0001", &alice)
	for range 18 {
		h.coin(100)
	}
	if st := h.st(); st.CoinsRefused || fillOf(st, "coins").Refusing {
		t.Fatalf("at 18 of 20 coins: refused already (%+v)", fillOf(st, "coins"))
	}
	h.coin(100)
	a, ok := find[SetAccepting](h.last)
	if !ok || !a.On || !slices.Equal(a.Refuse, []string{"coins"}) {
		t.Fatalf("at 19 of 20: SetAccepting %+v (sent %v), want on with coins refused", a, ok)
	}
	if st := h.st(); !st.CoinsRefused || st.NotesRefused {
		t.Fatalf("screen: coins refused %v, notes refused %v", st.CoinsRefused, st.NotesRefused)
	}
	// A coin already in the chute still lands and counts.
	h.coin(100)
	if st := h.st(); st.Total != 2000 || fillOf(st, "coins").Pieces != 20 {
		t.Fatalf("total %d, coins %+v", st.Total, fillOf(st, "coins"))
	}
}
