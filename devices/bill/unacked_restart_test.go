package bill_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/printroom/voucherkiosk/devices"
	"github.com/printroom/voucherkiosk/devices/bill"
	"github.com/printroom/voucherkiosk/devices/devsim/sspsim"
)

// A crash after the engine journaled a note's credit and before the device
// took EVENT_ACK: the next start has no pending note (the credit settled
// it), but the device repeats the CREDIT. The journal knows its last note
// credit may be unacknowledged (journal.Ledger.Unacked); the driver must hand
// the repeat to the engine, whose rule (kiosk.Engine.onBareNoteCredit) tells
// it from a new note and acknowledges it. Before the fix the driver, with
// no pending note to attribute it to, swallowed it with a false "credit
// without a pending note: count the cash box" fault, and the engine's repeat
// rule never ran.
func TestRepeatedCreditOfJournaledNoteAfterRestart(t *testing.T) {
	restartWithRepeatedCredit(t, true)
}

// A credit the driver cannot explain at all (the journal knows no pending
// note and no unacknowledged credit: a tampered or lost journal, a device
// misbehaving) still reaches the engine as a bare credit, which journals it
// as a discrepancy for the cash-up (issue 11 item 2), besides the fault.
// Before, the driver swallowed it: the note was in the box and nowhere in
// the journal.
func TestUnexplainedCreditReachesTheEngine(t *testing.T) {
	restartWithRepeatedCredit(t, false)
}

func restartWithRepeatedCredit(t *testing.T, journalKnowsIt bool) {
	sim, err := sspsim.New(t.TempDir(), sspsim.Options{Channels: euro, Encryption: true})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	newValidator := func(unacked bool) *bill.Validator {
		v, err := bill.New(bill.Config{Name: "notes", Port: sim.Path(), Values: euroValues(), Currency: "EUR",
			PollInterval: 10 * time.Millisecond, Reconnect: 50 * time.Millisecond, Timeout: 300 * time.Millisecond,
			Encryption: true, UnackedCredit: unacked})
		if err != nil {
			t.Fatal(err)
		}
		v.SetAccepting(true)
		return v
	}

	// First life: the note stacks and its credit reaches the engine, which
	// "journals" it; the process dies before the device hears EVENT_ACK
	// (here: before the Ack, which holds EVENT_ACK back just the same).
	v1 := newValidator(false)
	out1 := make(chan devices.Event, 16)
	ctx1, crash := context.WithCancel(context.Background())
	done1 := make(chan error, 1)
	go func() { done1 <- v1.Run(ctx1, out1) }()
	deadline := time.Now().Add(10 * time.Second)
	for sim.InsertNote(2) != nil {
		if time.Now().After(deadline) {
			t.Fatal("validator never enabled")
		}
		time.Sleep(5 * time.Millisecond)
	}
wait:
	for {
		select {
		case ev := <-out1:
			switch ev := ev.(type) {
			case devices.Escrow:
				ev.Decide <- devices.Stack
			case devices.Credit:
				break wait
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no credit in the first life")
		}
	}
	crash()
	if err := <-done1; err != nil {
		t.Fatal(err)
	}
	if len(sim.AckPending()) == 0 {
		t.Fatal("the device took an EVENT_ACK the engine never released")
	}

	// Second life: no pending note; the journal says its last note credit
	// may await EVENT_ACK.
	v2 := newValidator(journalKnowsIt)
	out2 := make(chan devices.Event, 16)
	ctx2, stop := context.WithCancel(context.Background())
	done2 := make(chan error, 1)
	go func() { done2 <- v2.Run(ctx2, out2) }()
	defer func() {
		stop()
		<-done2
	}()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev := <-out2:
			switch ev := ev.(type) {
			case devices.Credit:
				if ev.Key != "2" || ev.NoteID != "" || ev.Amount != euroValues()[2] || ev.Ack == nil {
					t.Fatalf("repeated credit handed over as %+v, want a bare credit of channel 2 with an Ack", ev)
				}
				ev.Ack() // the engine recognised the repeat
				tick := time.NewTicker(5 * time.Millisecond)
				defer tick.Stop()
				for len(sim.AckPending()) != 0 {
					select {
					case ev := <-out2:
						if c, ok := ev.(devices.Credit); ok {
							t.Fatalf("credit handed over twice: %+v", c)
						}
					case <-tick.C:
					case <-timeout:
						t.Fatal("the device never took EVENT_ACK for the repeat")
					}
				}
				return
			case devices.StatusChange:
				if journalKnowsIt && strings.Contains(ev.Detail, "without a pending note") {
					t.Fatalf("the repeat of a journaled credit raised %q instead of reaching the engine", ev.Detail)
				}
			}
		case <-timeout:
			t.Fatal("the device's repeated credit never reached the engine")
		}
	}
}
