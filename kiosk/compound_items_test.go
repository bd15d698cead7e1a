package kiosk

import (
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
