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

func newSim(t *testing.T, opts sspsim.Options) *sspsim.Sim {
	t.Helper()
	if opts.Channels == nil {
		opts.Channels = euro
	}
	sim, err := sspsim.New(t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	return sim
}

// A CREDIT behind an event of unknown length must not be acknowledged (and
// so lost): the driver raises a fault, keeps polling without EVENT_ACK, and
// books the credit when the device repeats it. Before the fix the driver
// acknowledged the shortened list and the credit was gone.
func TestUnknownEventBeforeCreditIsNotAcknowledged(t *testing.T) {
	// POLL_WITH_ACK (which repeats the credit) needs eSSP; with plain POLL
	// nothing repeats and the fault says to count the cash box.
	for _, enc := range []bool{true} {
		t.Run("encrypted", func(t *testing.T) {
			sim := newSim(t, sspsim.Options{Encryption: enc})
			sim.InjectEvent(0x99)
			sim.Credit(2)
			r := startOn(t, sim, bill.Config{Encryption: enc, PendingNotes: 1}, nil)
			r.eng.waitFor(t, "the repeated credit", func(evs []devices.Event) bool { return len(credits(evs)) == 1 })
			r.eng.waitFor(t, "EVENT_ACK of the credit", func([]devices.Event) bool { return len(sim.AckPending()) == 0 })
			evs := r.eng.snapshot()
			if cs := credits(evs); len(cs) != 1 || cs[0].Amount != 1000 {
				t.Fatalf("credits %v, want one of 1000", cs)
			}
			if !hasStatus(evs, devices.StatusFault) {
				t.Fatal("no fault raised for the unknown event")
			}
		})
	}
}

// A CREDIT before an unknown event is booked once: the reply is not
// acknowledged, the device repeats the CREDIT, and the repeat is known.
func TestUnknownEventAfterCreditBookedOnce(t *testing.T) {
	sim := newSim(t, sspsim.Options{Encryption: true})
	sim.Credit(1)
	sim.InjectEvent(0x99)
	r := startOn(t, sim, bill.Config{Encryption: true, PendingNotes: 1}, nil)
	r.eng.waitFor(t, "EVENT_ACK of the credit", func(evs []devices.Event) bool {
		return len(credits(evs)) > 0 && len(sim.AckPending()) == 0
	})
	// One more exchange cycle must not book it again.
	sim.InjectEvent(0xE5)
	r.eng.waitFor(t, "a later poll", func(evs []devices.Event) bool { return len(credits(evs)) >= 1 })
	if cs := credits(r.eng.snapshot()); len(cs) != 1 {
		t.Fatalf("credits %v, want exactly one", cs)
	}
}

// An event ITL documents without data (0xE5 BAR_CODE_TICKET_VALIDATED) is
// skipped and the CREDIT behind it booked at once, with no fault.
func TestDocumentedEventSkipped(t *testing.T) {
	sim := newSim(t, sspsim.Options{Encryption: true})
	sim.InjectEvent(0xE5)
	sim.Credit(3)
	r := startOn(t, sim, bill.Config{Encryption: true, PendingNotes: 1}, nil)
	r.eng.waitFor(t, "credit", func(evs []devices.Event) bool { return len(credits(evs)) == 1 })
	r.eng.waitFor(t, "EVENT_ACK", func([]devices.Event) bool { return len(sim.AckPending()) == 0 })
	if hasStatus(r.eng.snapshot(), devices.StatusFault) {
		t.Fatal("fault raised for a documented event")
	}
}

// With plain POLL (no eSSP) a device sends each event once: a reply that
// cannot be read may hide a credit for good, so the fault says to count the
// cash box.
func TestUnknownEventPlainPollSaysCountTheCashBox(t *testing.T) {
	sim := newSim(t, sspsim.Options{})
	sim.InjectEvent(0x99)
	r := startOn(t, sim, bill.Config{}, nil)
	r.eng.waitFor(t, "the fault", func(evs []devices.Event) bool {
		for _, e := range evs {
			if s, ok := e.(devices.StatusChange); ok && s.Status == devices.StatusFault && strings.Contains(s.Detail, "count the cash box") {
				return true
			}
		}
		return false
	})
}

// A slow engine (the journal not yet durable) past the driver's wait: the
// device repeats the CREDIT, the driver knows it as a repeat (no second
// credit), and no EVENT_ACK goes out until the engine has journaled it.
// Before the fix the repeat was handled again, and the next poll sent
// EVENT_ACK for a credit that was still only in memory.
func TestSlowJournalNoRepeatNoEarlyAck(t *testing.T) {
	sim := newSim(t, sspsim.Options{Encryption: true})
	sim.Credit(2)
	v, err := bill.New(bill.Config{Name: "notes", Port: sim.Path(), Values: euroValues(), Currency: "EUR", Encryption: true,
		PendingNotes: 1, PollInterval: 10 * time.Millisecond, JournalWait: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	v.SetAccepting(true)
	ctx, cancel := context.WithCancel(context.Background())
	out := make(chan devices.Event, 64)
	done := make(chan error, 1)
	go func() { done <- v.Run(ctx, out) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	var credit devices.Credit
	for credit.Ack == nil {
		if c, ok := (<-out).(devices.Credit); ok {
			credit = c
		}
	}
	// Hold the journal back over many polls: the device keeps repeating.
	polls := sim.Commands()
	for sim.Commands() < polls+30 {
		time.Sleep(5 * time.Millisecond)
	}
	if len(sim.AckPending()) == 0 {
		t.Fatal("EVENT_ACK sent before the credit was journaled")
	}
	credit.Ack() // journaled
	for len(sim.AckPending()) > 0 {
		time.Sleep(5 * time.Millisecond)
	}
	for {
		select {
		case ev := <-out:
			if c, ok := ev.(devices.Credit); ok {
				t.Fatalf("the repeated credit was handled again: %+v", c)
			}
			continue
		default:
		}
		break
	}
}
