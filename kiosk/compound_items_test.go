package kiosk

import (
	"github.com/printroom/voucherkiosk/kiosk/journal"
	"testing"
	"time"

	"github.com/printroom/voucherkiosk/devices"
)

// Issue 11 item 7: restored timers count from the process start, never from
// journal times. The clock went a day backwards across the restart; the
// resumed session's note goes back, and idle_finish must still book its coin
// idle_finish after the restart, not a day later.
func TestRestoredTimersCountFromStart(t *testing.T) {
	cfg := testConfig()
	h := newHarness(t, cfg)
	h.open("card-1", &alice)
	h.coin(200)
	dec := make(chan devices.EscrowDecision, 1)
	cmds := h.do(devices.Escrow{Device: "notes", NoteID: "n1", Key: "1", Amount: 500, Decide: dec})
	if d, _ := find[Decide](cmds); d.Decision != devices.Stack {
		t.Fatalf("decision %v", d.Decision)
	}
	h.now = h.now.Add(-24 * time.Hour) // RTC-less board boots into yesterday
	h.restart(cfg)
	if h.st().Phase != PhaseSession {
		t.Fatalf("phase %v after restart, want the session resumed", h.st().Phase)
	}
	h.do(devices.NoteReturned{Device: "notes", NoteID: "n1"})
	cmds = h.adv(cfg.IdleFinish)
	if _, ok := find[Book](cmds); !ok {
		t.Fatalf("no booking idle_finish after the restart (phase %v, finish at %v, now %v)", h.st().Phase, h.st().FinishAt, h.now)
	}
}

// Issue 11 item 3: a credit is confirmed to the device only once its record
// is durable. While the journal fails the credit is held in memory and not
// acknowledged (the validator keeps reporting it, so a restart does not lose
// the note); when the journal heals and the record is written, it is.
func TestCreditAckedOnlyWhenDurable(t *testing.T) {
	cfg := testConfig()
	cfg.JournalRetry = time.Second
	h := newHarness(t, cfg)
	h.open("card-1", &alice)
	acked := 0
	ack := func() { acked++ }
	run := func(cmds []Command) {
		for _, c := range cmds {
			if a, ok := c.(AckCredit); ok {
				a.Ack()
			}
		}
	}
	h.tj.setFail(errDisk)
	run(h.do(devices.Credit{Device: "coins", Key: "k", Amount: 200, Ack: ack}))
	if acked != 0 {
		t.Fatal("credit acknowledged while only held in memory")
	}
	if on, set := accepting(h.last); set && on {
		t.Fatal("acceptors enabled while the journal fails")
	}
	run(h.adv(2 * time.Second))
	if acked != 0 {
		t.Fatal("acknowledged while the journal still fails")
	}
	h.tj.setFail(nil)
	run(h.adv(2 * time.Second))
	if acked != 1 {
		t.Fatalf("acked %d times after the journal healed, want 1", acked)
	}
	if got := len(h.tj.kinds(journal.KindCredit)) + len(h.tj.kinds(journal.KindUnclaimed)); got != 1 {
		t.Fatalf("%d money records, want 1", got)
	}
	run(h.do(devices.Credit{Device: "coins", Key: "k", Amount: 100, Ack: ack}))
	if acked != 2 {
		t.Fatalf("a credit journaled at once was not acknowledged (%d)", acked)
	}
}

// Issue 11 item 2: a note credited twice after two crashes. A stale note
// (n0, which the validator gave back without the kiosk learning it) is
// still pending; note n1 of the same channel is credited and journaled, and
// the kiosk dies before the EVENT_ACK. After the restart the validator
// repeats n1's CREDIT without a note identity: it is a repeat, not n0.
func TestRepeatedCreditAfterRestartIsARepeat(t *testing.T) {
	cfg := testConfig()
	h := newHarness(t, cfg)
	h.open("card-1", &alice)
	dec := make(chan devices.EscrowDecision, 1)
	for _, id := range []string{"n0", "n1"} {
		cmds := h.do(devices.Escrow{Device: "notes", NoteID: id, Key: "1", Amount: 500, Decide: dec})
		if d, _ := find[Decide](cmds); d.Decision != devices.Stack {
			t.Fatalf("note %s: %v", id, d.Decision)
		}
	}
	h.do(devices.Credit{Device: "notes", NoteID: "n1", Key: "1", Amount: 500})
	h.restart(cfg) // crash before EVENT_ACK
	acked := false
	cmds := h.do(devices.Credit{Device: "notes", Key: "1", Amount: 500, Ack: func() { acked = true }})
	for _, c := range cmds {
		if a, ok := c.(AckCredit); ok {
			a.Ack()
		}
	}
	if !acked {
		t.Error("the repeat was not acknowledged: the validator would report it forever")
	}
	if n := len(h.tj.kinds(journal.KindCredit)) + len(h.tj.kinds(journal.KindUnclaimed)); n != 0 {
		t.Fatalf("the repeated CREDIT was journaled as money again (%d records)", n)
	}
	if c := h.tj.j.Ledger().Cash(); c.Accepted != 500 {
		t.Fatalf("cash accepted %d, want 500 (one note in the box): %+v", c.Accepted, c)
	}
}

// A credit that can be attributed to no note (no pending note of its
// channel newer than the last credit, no acknowledgement outstanding) is a
// discrepancy for the cash-up: needs attention, booked to nobody.
func TestUnattributableCreditIsADiscrepancy(t *testing.T) {
	cfg := testConfig()
	h := newHarness(t, cfg)
	h.restart(cfg)
	h.do(devices.Credit{Device: "notes", Key: "2", Amount: 1000})
	if n := len(h.tj.kinds(journal.KindUnclaimed)); n != 0 {
		t.Fatal("an unattributable note credit became unclaimed cash: the next card would claim it")
	}
	c := h.tj.j.Ledger().Cash()
	if c.Attention != 1000 || c.Unclaimed != 0 || c.Accepted != 1000 {
		t.Fatalf("cash %+v, want 10.00 needing attention", c)
	}
}
