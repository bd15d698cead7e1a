package booking

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/printroom/voucherkiosk/api/myqfake"
	"github.com/printroom/voucherkiosk/kiosk/journal"
)

// BenchmarkEnterToCommitted: from Enter (the engine journals the finish)
// to the commit journaled, against the fake over TLS on loopback with the
// journal on disk. Reports ms per booking, MyQ round trips per booking
// (token and balance excluded) and the time until the screen's result,
// which waits up to BalanceWait for the new balance.
func BenchmarkEnterToCommitted(b *testing.B) {
	for _, lat := range []time.Duration{0, 20 * time.Millisecond} {
		b.Run(fmt.Sprintf("latency=%v", lat), func(b *testing.B) {
			r := newRig(b, rigOpt{})
			committed, result := make(chan struct{}, 1), make(chan struct{}, 1)
			r.cfg.OnCommitted = func(int64) { committed <- struct{}{} }
			r.cfg.OnResult = func(Result) { result <- struct{}{} }
			bk := r.start()
			if _, err := r.client.Token(context.Background()); err != nil {
				b.Fatal(err)
			}
			r.fake.SetLatency(lat)
			r.fake.ResetRequests()
			var toCommit, toResult time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				id, f := r.finish(1, cardOf(1), 100)
				r.owe(1, 100, f.Reference)
				bk.Book(id, f)
				<-committed
				toCommit += time.Since(t0)
				<-result
				toResult += time.Since(t0)
			}
			b.StopTimer()
			rt := r.fake.Requests(myqfake.RouteCreate) + r.fake.Requests(myqfake.RouteCommit) +
				r.fake.Requests(myqfake.RouteList) + r.fake.Requests(myqfake.RouteFindUser)
			b.ReportMetric(float64(toCommit.Microseconds())/1000/float64(b.N), "ms/committed")
			b.ReportMetric(float64(toResult.Microseconds())/1000/float64(b.N), "ms/result")
			b.ReportMetric(float64(rt)/float64(b.N), "roundtrips/booking")
			r.fake.SetLatency(0)
			r.settle()
		})
	}
}

// BenchmarkFlush10000: 10,000 sessions queued in the journal (an outage,
// then a restart) flushed against the fake: each is listed (its create may
// have been sent), created and committed. Zero duplicates via fake.Check.
func BenchmarkFlush10000(b *testing.B) {
	const n, users = 10000, 1000
	for i := 0; i < b.N; i++ {
		r := newRig(b, rigOpt{compactAfter: journal.DefaultCompactAfter})
		for uid := int64(numUsers + 1); uid <= users; uid++ {
			r.fake.AddUser(myqfake.User{ID: uid, Username: fmt.Sprint("u", uid), Cards: []string{cardOf(uid)}})
		}
		now := time.Now()
		var recs []journal.Record
		for s := 0; s < n; s++ {
			uid := int64(s%users) + 1
			id := fmt.Sprintf("q%06d", s)
			f := journal.Finish{Total: 100 + int64(s%7), Reference: testKiosk + "/" + id, UserID: uid, Card: cardOf(uid)}
			r.owe(uid, f.Total, f.Reference)
			recs = append(recs,
				journal.New(journal.KindSessionOpen, id, now, journal.SessionOpen{Card: f.Card, UserID: uid}),
				journal.New(journal.KindCredit, id, now, journal.Credit{Device: "coins", Key: "1", Amount: f.Total}),
				journal.New(journal.KindFinish, id, now, f))
			if len(recs) >= 3000 {
				if _, err := r.j.Append(recs...); err != nil {
					b.Fatal(err)
				}
				recs = recs[:0]
			}
		}
		if len(recs) > 0 {
			if _, err := r.j.Append(recs...); err != nil {
				b.Fatal(err)
			}
		}
		b.ResetTimer()
		t0 := time.Now()
		r.start()
		waitFor(b, "queue loaded", func() bool { return r.b.Status().Pending > 0 })
		deadline := time.Now().Add(10 * time.Minute)
		for r.b.Status().Pending > 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		el := time.Since(t0)
		b.StopTimer()
		b.ReportMetric(el.Seconds(), "s/10k-flush")
		rt := r.fake.Requests(myqfake.RouteCreate) + r.fake.Requests(myqfake.RouteCommit) + r.fake.Requests(myqfake.RouteList)
		b.ReportMetric(float64(rt)/n, "roundtrips/session")
		r.checkMoney()
		r.stop()
	}
}
