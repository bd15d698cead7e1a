package booking

import (
	"context"
	"strings"
	"testing"

	"github.com/printroom/voucherkiosk/api/myqfake"
	"github.com/printroom/voucherkiosk/kiosk/journal"
)

// Issue 11 item 9: a state word that merely contains "commit" is not
// committed. MyQ lists our payment as "committing" after a lost create
// answer: it has moved no money, so journaling it as booked would lose the
// money; creating another would double it once MyQ finishes. The session
// needs attention and stays pending.
func TestUnknownStateWordIsNotCommitted(t *testing.T) {
	r := newRig(t, rigOpt{})
	r.fake.SetStateWords("committing", "committed", "rolledback")
	r.fake.DropAnswer(myqfake.RouteCreate, 1)
	r.start()
	id := r.book(1, 250)
	waitFor(t, "attention", func() bool { return r.b.Status().NeedsAttention == 1 })
	if st := r.j.Ledger().Pending(); len(st) != 1 || st[0].ID != id {
		t.Fatalf("pending = %+v, want the session still pending", st)
	}
	for _, rec := range r.j.Ledger().Pending() {
		if !strings.Contains(rec.Attention, "committing") {
			t.Errorf("attention %q does not name the state word", rec.Attention)
		}
	}
	if got := r.fake.Requests(myqfake.RouteCreate); got != 1 {
		t.Errorf("%d creates, want 1: a payment in an unknown state is never created again", got)
	}
	if got := r.fake.Totals()[1]; got != 0 {
		t.Errorf("MyQ credited %s", got)
	}
	_ = journal.KindCommitted
}

// Issue 11 item 5: a listed payment is ours only if the reference, the user
// and the amount all match. A payment committed elsewhere under the same
// reference (a repeated reference after a wiped state directory) with
// another amount must not be taken for this session's commit.
func TestListedPaymentOursOnlyIfAmountMatches(t *testing.T) {
	r := newRig(t, rigOpt{})
	id, f := r.finish(1, cardOf(1), 250)
	r.owe(1, 250, f.Reference)
	ctx := context.Background()
	p, err := r.client.CreatePayment(ctx, 1, f.Reference, 999)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.client.CommitPayment(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	r.owe(1, 999, f.Reference)
	r.start() // the restart path: the journal's pending session lists first
	_ = id
	r.b.FlushNow()
	waitFor(t, "queue empty", func() bool { return r.pending() == 0 })
	if got := r.fake.Totals()[1]; got != 999+250 {
		t.Fatalf("user 1 got %s, want 12.49: the 2.50 was taken as booked by another payment", got)
	}
}
