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
	run(h.do(devices.Credit{Device: "notes", Key: "1", Amount: 500, Ack: ack}))
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
