package booking

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"github.com/printroom/voucherkiosk/api"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

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

// pagedFake serves the fake MyQ over loopback TLS with payment listings
// cut into pages of pageSize (honouring start, ignoring limit, count the
// total), as MyQ does with its default limit: a client that reads one page
// sees an incomplete list.
func pagedFake(t *testing.T, f *myqfake.Server, pageSize int) *api.Client {
	t.Helper()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, "/payments") {
			f.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		whole := r.Clone(r.Context()) // the fake's whole list, cut here
		q := whole.URL.Query()
		q.Del("start")
		q.Del("limit")
		whole.URL.RawQuery = q.Encode()
		f.ServeHTTP(rec, whole)
		var body struct {
			Payments []json.RawMessage `json:"payments"`
			Count    int               `json:"count"`
		}
		if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &body) != nil {
			w.WriteHeader(rec.Code)
			_, _ = w.Write(rec.Body.Bytes())
			return
		}
		start, _ := strconv.Atoi(r.URL.Query().Get("start"))
		start = min(max(start, 0), len(body.Payments))
		end := min(start+pageSize, len(body.Payments))
		body.Payments = body.Payments[start:end]
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(body)
	})
	srv := httptest.NewUnstartedServer(h)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := api.New(api.Config{URL: srv.URL, ClientID: testClient, ClientSecret: testSecret, CAFile: ca, Timeout: 3 * time.Second, Log: testLog(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// Issue 11 item 1: a listing that may be incomplete proves nothing about a
// payment's absence. The commit's answer is lost; the next listing's first
// page shows only an older payment of the same user. Concluding "vanished"
// and creating the payment again credits the student twice.
func TestIncompleteListingNeverCreatesAgain(t *testing.T) {
	r := newRig(t, rigOpt{})
	c := pagedFake(t, r.fake, 1)
	r.cfg.Client = c
	ctx := context.Background()
	if _, err := c.CreatePayment(ctx, 1, "elsewhere/older", 100); err != nil { // listed first, open
		t.Fatal(err)
	}
	r.fake.DropAnswer(myqfake.RouteCommit, 1)
	r.start()
	r.book(1, 250)
	waitFor(t, "a second attempt", func() bool {
		return r.fake.Requests(myqfake.RouteList) > 0 && (r.b.Status().NeedsAttention == 1 || r.pending() == 0)
	})
	r.b.FlushNow()
	waitFor(t, "attention or commit", func() bool { return r.b.Status().NeedsAttention == 1 || r.pending() == 0 })
	if got := r.fake.Totals()[1]; got != 250 {
		t.Fatalf("user 1 got %s, want 2.50 exactly once", got)
	}
	if got := r.fake.Requests(myqfake.RouteCreate); got != 2 { // ours and "elsewhere/older"
		t.Errorf("%d creates, want 2: a payment we sent a commit for is never created again", got)
	}
}

// Issue 11 item 10: orphan rollback touches only payments this session
// abandoned. A listing is stale the moment it is read, so a payment of
// another session (here one journaled as committed) is never rolled back.
func TestNoRollbackOfAnotherSessionsPayment(t *testing.T) {
	r := newRig(t, rigOpt{})
	r.start()
	r.book(1, 300)
	r.settle()
	done := r.j.Ledger().Committed(1)
	if len(done) != 1 {
		t.Fatalf("committed = %+v", done)
	}
	// An open payment carrying the committed session's reference (a create
	// whose answer was lost, or one MyQ lists late).
	if _, err := r.client.CreatePayment(context.Background(), 1, done[0].Reference, 300); err != nil {
		t.Fatal(err)
	}
	r.stop()
	r.finish(1, cardOf(1), 200) // pending at start: it lists before it creates
	r.owe(1, 200, "")
	r.start()
	r.b.FlushNow()
	waitFor(t, "queue empty", func() bool { return r.pending() == 0 })
	if n := r.fake.Requests(myqfake.RouteRollback); n != 0 {
		t.Errorf("%d rollbacks: a payment of a session journaled as committed was rolled back", n)
	}
}

// Issue 11 item 12: a tampered journal is not booked as written. A credit
// of key "1" (a 0.50 coin) claiming 9999.99 and a session above max_topup
// need attention and reach no account.
func TestReplayChecksValuesAndMaxTopup(t *testing.T) {
	r := newRig(t, rigOpt{cfg: func(c *Config) {
		c.Values = map[string]int64{"coins:1": 50, "coins:2": 100}
		c.MaxTopup = 5000
	}})
	now := time.Now()
	add := func(id string, uid int64, credits ...journal.Credit) {
		recs := []journal.Record{journal.New(journal.KindSessionOpen, id, now, journal.SessionOpen{Card: cardOf(uid), UserID: uid})}
		var total int64
		for _, c := range credits {
			recs = append(recs, journal.New(journal.KindCredit, id, now, c))
			total += c.Amount
		}
		recs = append(recs, journal.New(journal.KindFinish, id, now, journal.Finish{Total: total, Reference: testKiosk + "/" + id, UserID: uid, Card: cardOf(uid)}))
		if _, err := r.j.Append(recs...); err != nil {
			t.Fatal(err)
		}
	}
	add("forged", 1, journal.Credit{Device: "coins", Key: "1", Amount: 999999})
	var many []journal.Credit
	for range 60 {
		many = append(many, journal.Credit{Device: "coins", Key: "2", Amount: 100})
	}
	add("toomuch", 2, many...)
	add("fine", 3, journal.Credit{Device: "coins", Key: "2", Amount: 100})
	r.owe(3, 100, "")
	r.start()
	waitFor(t, "two sessions needing attention", func() bool { return r.b.Status().NeedsAttention == 2 && r.pending() == 2 })
	if tot := r.fake.Totals(); tot[1] != 0 || tot[2] != 0 || tot[3] != 100 {
		t.Fatalf("MyQ totals %v: a tampered session was booked", tot)
	}
	for _, it := range r.b.Queue() {
		if it.Attention == "" {
			t.Errorf("queued %s without attention", it.SessionID)
		}
	}
}

// Issue 11 item 6: a session opened from the card cache (MyQ unreachable)
// is looked up again before booking. The card now belongs to another
// student: the session needs attention naming both, and neither account
// gets the money by itself.
func TestOfflineSessionCardReassigned(t *testing.T) {
	r := newRig(t, rigOpt{})
	// The cache said user 1; MyQ now has the card on user 2.
	r.fake.DeleteUser(1)
	r.fake.AddUser(myqfake.User{ID: 1, Username: "user1", FullName: "User 1"})
	r.fake.DeleteUser(2)
	r.fake.AddUser(myqfake.User{ID: 2, Username: "user2", FullName: "User 2", Cards: []string{cardOf(2), cardOf(1)}})
	id := "s-offline"
	now := time.Now()
	f := journal.Finish{Total: 400, Reference: testKiosk + "/" + id, UserID: 1, FullName: "User 1", Card: cardOf(1), Offline: true}
	if _, err := r.j.Append(
		journal.New(journal.KindSessionOpen, id, now, journal.SessionOpen{Card: cardOf(1), UserID: 1, FullName: "User 1", Offline: true}),
		journal.New(journal.KindCredit, id, now, journal.Credit{Device: "coins", Key: "1", Amount: 400}),
		journal.New(journal.KindFinish, id, now, f),
	); err != nil {
		t.Fatal(err)
	}
	r.start()
	r.b.Book(id, f)
	waitFor(t, "attention", func() bool { return r.b.Status().NeedsAttention == 1 })
	q := r.b.Queue()
	if len(q) != 1 || !strings.Contains(q[0].Attention, "user 2") || !strings.Contains(q[0].Attention, "user 1") {
		t.Fatalf("queue %+v: the technician must see both the cached and the current owner", q)
	}
	if tot := r.fake.Totals(); tot[1] != 0 || tot[2] != 0 {
		t.Fatalf("booked by itself: %v", tot)
	}
}
