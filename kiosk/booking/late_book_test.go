package booking

import (
	"testing"

	"github.com/printroom/voucherkiosk/api/myqfake"
)

// After a restart the booker takes the journal's pending sessions (load)
// while the engine's Restore finishes an open session and hands it to Book:
// two paths to the same session, run by different goroutines. When load
// wins and books the session before the engine's Book arrives, that Book
// found no entry (committed entries are dropped) and queued the session
// again: a second payment was created in MyQ, its payment_created refused by
// the journal (the session is committed), and the entry retried forever: an
// open orphan in MyQ and a queue that never drained (seen in
// e2e TestNotesMoneyFullStack, seed 1796008810394903500). The journal says
// the session is committed: Book must report that, not book it again.
func TestBookAfterLoadCommittedIt(t *testing.T) {
	r := newRig(t, rigOpt{})
	id, f := r.finish(1, cardOf(1), 150)
	r.owe(1, 150, f.Reference)
	r.restart() // load takes the pending session and books it
	waitFor(t, "the loaded session committed", func() bool { return r.pending() == 0 && r.b.Status().Pending == 0 })
	creates := r.fake.Requests(myqfake.RouteCreate)

	r.b.Book(id, f) // the engine's Restore, late
	waitFor(t, "a result for the late Book", func() bool {
		res, ok := r.result(id)
		return ok && (res.Committed || res.Queued)
	})
	if res, _ := r.result(id); !res.Committed {
		t.Errorf("late Book of a committed session: result %+v, want committed", res)
	}
	if got := r.fake.Requests(myqfake.RouteCreate); got != creates {
		t.Errorf("MyQ got %d more payment creates for a session the journal has committed", got-creates)
	}
	if st := r.b.Status(); st.Pending != 0 {
		t.Errorf("queue %+v after the late Book: the committed session is queued again", st)
	}
	r.settle()
	if open := r.openPayments(); open != 0 {
		t.Errorf("%d open payments left in MyQ", open)
	}
}
