package e2e

import (
	"errors"
	"testing"
	"time"

	"github.com/printroom/voucherkiosk/devices"
	"github.com/printroom/voucherkiosk/devices/devsim/sspsim"
	"github.com/printroom/voucherkiosk/kiosk"
	"github.com/printroom/voucherkiosk/kiosk/journal"
)

// Cash-box capacity through the whole stack (issue 18): a validator on the
// SSP simulator whose cash box holds 4 notes, near full at 75 %. After the
// third note the validator is disabled while the session is still open and
// the screen says notes are not taken; a restart keeps it so (the pieces
// come from the journal); the cash-up, as the daemon does it, enables it.
func TestCashboxNearFullStopsNotesEndToEnd(t *testing.T) {
	r := newNotesRig(t, 18)
	r.cashboxes = []kiosk.Cashbox{{Device: notesDevice, Capacity: 4, NearFull: 75, Notes: true, CanInhibit: true}}
	r.boot()
	u := Users()[0]

	r.openSession(u)
	for i := range 3 {
		if stacked, _ := r.insert(1, faultNone, noRestart); !stacked {
			r.fail("note %d was not stacked", i+1)
		}
	}
	r.waitUntil("the validator disabled at 3 of 4 notes", func() bool { return !r.sim.Enabled() })
	st := r.b.runner.State()
	if st.Phase != kiosk.PhaseSession || !st.NotesRefused {
		r.fail("after the third note: phase %v, notes refused %v; want the session still open and notes refused", st.Phase, st.NotesRefused)
	}
	if err := r.sim.InsertNote(1); !errors.Is(err, sspsim.ErrNotAccepting) {
		r.fail("a fourth note: %v, want the validator to refuse it", err)
	}
	r.settle()

	r.restart("near full")
	if f := r.b.runner.State().Cashboxes; len(f) != 1 || f[0].Pieces != 3 || !f[0].Refusing {
		r.fail("after a restart the cash box is %+v, want 3 pieces and refusing", f)
	}
	r.openSession(u)
	r.waitUntil("the validator connected", func() bool {
		return r.b.runner.State().Devices[notesDevice].Status == devices.StatusConnected
	})
	if err := r.sim.InsertNote(1); !errors.Is(err, sspsim.ErrNotAccepting) {
		r.fail("after a restart a note was taken: %v", err)
	}

	// The cash-up: journal it and tell the engine, as kioskd's Cashup does.
	led := r.b.j.Ledger()
	if _, err := r.b.j.Append(journal.New(journal.KindCashup, "", time.Now(), journal.Cashup{By: "e2e", Totals: led.Cash()})); err != nil {
		r.fail("cash-up: %v", err)
	}
	r.b.runner.Post(kiosk.CashboxPieces{Pieces: r.b.j.Ledger().Cash().Pieces})
	r.waitUntil("the validator enabled after the cash-up", func() bool { return r.sim.Enabled() })
	if stacked, _ := r.insert(2, faultNone, noRestart); !stacked {
		r.fail("after the cash-up the note was not stacked")
	}
	r.settle()
	if n := len(r.sim.Stacked()); n != 4 {
		r.fail("the simulator stacked %d notes, want 4", n)
	}
}
