package booking

// A campus-wide outage, simulated (issue 18): N kiosks, each a real Booker
// over its real journal (on the in-memory FS), in one process, against one
// fake MyQ over TLS on loopback whose capacity is limited (503 with
// Retry-After above a request rate). MyQ is down for an hour while every
// kiosk takes top-ups; then it comes back and the fleet drains.
//
// Time is simulated: one virtual clock drives the Bookers (Config.Now, and
// the fake's capacity window), and a discrete-event loop plays the part of
// Booker.Run: at each instant it starts what pickLocked picks, runs the
// attempts (real HTTPS requests, taking no simulated time) and sleeps until
// the earliest nextWakeLocked of any kiosk. An hour of outage runs in
// seconds and every run with the same seed gives the same figures.

import (
	"cmp"
	"container/heap"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/printroom/voucherkiosk/api"
	"github.com/printroom/voucherkiosk/api/myqfake"
	"github.com/printroom/voucherkiosk/kiosk/journal"
)

var (
	fleetSeed       = flag.Uint64("fleet.seed", 1, "BenchmarkFleetOutage: seed of the top-up times, amounts and jitter")
	fleetSpacing    = flag.Duration("fleet.spacing", 0, "BenchmarkFleetOutage: Config.DrainSpacing (0: default, -1ns: off)")
	fleetMaxBackoff = flag.Duration("fleet.maxbackoff", 0, "BenchmarkFleetOutage: Config.MaxBackoff (0: default)")
	fleetWarm       = flag.Bool("fleet.warm", false, "BenchmarkFleetOutage: kiosks hold a token from before the outage")
	fleetOffline    = flag.Bool("fleet.offline", false, "BenchmarkFleetOutage: sessions journaled offline (the card is looked up again)")
)

type fleetParams struct {
	kiosks   int
	topups   int           // per kiosk, spread over the outage
	capacity int           // requests per second MyQ serves
	outage   time.Duration // MyQ down
	seed     uint64
	cfg      func(*Config) // booking config of every kiosk (nil: defaults)
	// warm: every kiosk holds a token from before the outage, as a running
	// campus does (the fake's tokens live in real time: it stays valid).
	warm bool
	// offline: the sessions are journaled as the engine does when MyQ is
	// down (Finish.Offline), so booking looks the card up again first.
	offline bool
}

type fleetResult struct {
	peak1s     int           // most requests MyQ saw in one second, from its return
	peak10s    float64       // most requests per second over a 10 s window, from its return
	peakDown   int           // most requests in one second during the outage
	overloaded int           // requests answered 503 for capacity
	requests   int           // requests from MyQ's return until the queues were empty
	drain      time.Duration // from MyQ's return until every queue was empty
	sessions   int           // top-ups committed
	duplicates int           // references committed more than once
}

// vclock is the simulated time, read by the Bookers and by the fake's
// handlers.
type vclock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *vclock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *vclock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

type simKiosk struct {
	i      int
	id     string
	uid    int64
	j      *journal.Journal
	client *api.Client
	b      *Booker
	topups []time.Time
	booked int
	wake   time.Time // zero: nothing scheduled
	hidx   int       // index in the wake heap, -1 when not in it
}

// wakeHeap orders kiosks by their next wake.
type wakeHeap []*simKiosk

func (h wakeHeap) Len() int { return len(h) }
func (h wakeHeap) Less(i, j int) bool {
	if c := h[i].wake.Compare(h[j].wake); c != 0 {
		return c < 0
	}
	return h[i].i < h[j].i
}
func (h wakeHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i]; h[i].hidx = i; h[j].hidx = j }
func (h *wakeHeap) Push(x any)   { k := x.(*simKiosk); k.hidx = len(*h); *h = append(*h, k) }
func (h *wakeHeap) Pop() any {
	old := *h
	k := old[len(old)-1]
	*h = old[:len(old)-1]
	k.hidx = -1
	return k
}

func runFleet(tb testing.TB, p fleetParams) fleetResult {
	tb.Helper()
	start := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	clk := &vclock{t: start}
	upAt := start.Add(p.outage)
	rnd := rand.New(rand.NewPCG(p.seed, p.seed^0x5eed))

	fake := myqfake.New(myqfake.Options{Capacity: p.capacity, Clock: clk.Now})
	fake.AddClient(testClient, testSecret, "credit users")
	run, err := fake.Start(true)
	if err != nil {
		tb.Fatal(err)
	}
	defer run.Close()
	ca, err := run.WriteCAFile(tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	kiosks := make([]*simKiosk, p.kiosks)
	for i := range kiosks {
		k := &simKiosk{i: i, id: fmt.Sprintf("lib-%03d", i), uid: int64(1000 + i), hidx: -1}
		fake.AddUser(myqfake.User{ID: k.uid, Username: fmt.Sprintf("u%d", k.uid), FullName: "Student", Cards: []string{cardOf(k.uid)}})
		if k.j, err = journal.Open(journal.Options{FS: journal.NewStrictMemFS(), Dir: "/state", CompactAfter: -1}); err != nil {
			tb.Fatal(err)
		}
		k.client, err = api.New(api.Config{URL: run.URL, ClientID: testClient, ClientSecret: testSecret, CAFile: ca,
			Timeout: 10 * time.Second, Log: testLog(tb)})
		if err != nil {
			tb.Fatal(err)
		}
		jr := rand.New(rand.NewPCG(p.seed, uint64(i)))
		cfg := Config{Client: k.client, Journal: k.j, KioskID: k.id, Log: testLog(tb), Now: clk.Now,
			Jitter: func(max time.Duration) time.Duration {
				if max <= 0 {
					return 0
				}
				return time.Duration(jr.Int64N(int64(max)))
			}}
		if p.cfg != nil {
			p.cfg(&cfg)
		}
		if k.b, err = New(cfg); err != nil {
			tb.Fatal(err)
		}
		if p.warm { // one a second before the outage, not to count in it
			clk.set(start.Add(-time.Duration(p.kiosks-i) * time.Second))
			if _, err := k.client.Token(context.Background()); err != nil {
				tb.Fatal(err)
			}
		}
		for range p.topups {
			k.topups = append(k.topups, start.Add(time.Duration(rnd.Int64N(int64(p.outage)))))
		}
		slices.SortFunc(k.topups, func(a, b time.Time) int { return a.Compare(b) })
		kiosks[i] = k
	}
	clk.set(start)
	fake.SetDown(true)
	defer func() {
		for _, k := range kiosks {
			k.client.CloseIdleConnections()
			k.j.Close()
		}
	}()

	// Every top-up of the fleet, in time order.
	type topup struct {
		at time.Time
		k  *simKiosk
	}
	var topups []topup
	for _, k := range kiosks {
		for _, t := range k.topups {
			topups = append(topups, topup{t, k})
		}
	}
	slices.SortStableFunc(topups, func(a, b topup) int { return cmp.Or(a.at.Compare(b.at), cmp.Compare(a.k.i, b.k.i)) })

	ctx := context.Background()
	up := false
	var wakes wakeHeap
	schedule := func(k *simKiosk, now time.Time) {
		k.b.mu.Lock()
		w := k.b.nextWakeLocked()
		k.b.mu.Unlock()
		if !w.IsZero() && !w.After(now) {
			w = now.Add(time.Millisecond) // the loop's floor in Booker.Run
		}
		k.wake = w
		switch {
		case k.hidx >= 0 && w.IsZero():
			heap.Remove(&wakes, k.hidx)
		case k.hidx >= 0:
			heap.Fix(&wakes, k.hidx)
		case !w.IsZero():
			heap.Push(&wakes, k)
		}
	}
	// step is one turn of Booker.Run's loop at now, with the attempts run
	// to their end before the next turn (requests take no simulated time).
	step := func(k *simKiosk, now time.Time) {
		k.b.mu.Lock()
		start := k.b.pickLocked(now)
		k.b.mu.Unlock()
		for _, e := range start {
			k.b.attempt(ctx, e)
		}
	}

	var lastCommit time.Time
	commitsBefore := 0
	for {
		var now time.Time
		switch {
		case len(topups) > 0:
			now = topups[0].at
		case len(wakes) > 0:
			now = wakes[0].wake
		}
		if len(wakes) > 0 && (now.IsZero() || wakes[0].wake.Before(now)) {
			now = wakes[0].wake
		}
		if !up && (now.IsZero() || !now.Before(upAt)) {
			now = upAt
		}
		if now.IsZero() {
			break
		}
		clk.set(now)
		if !up && !now.Before(upAt) {
			up = true
			fake.SetDown(false)
			commitsBefore = len(fake.Ledger())
			for _, k := range kiosks {
				schedule(k, now)
			}
		}
		for len(topups) > 0 && !topups[0].at.After(now) {
			tp := topups[0]
			topups = topups[1:]
			k := tp.k
			k.booked++
			id := fmt.Sprintf("s%04d", k.booked)
			amount := int64(50 * (1 + rnd.IntN(40)))
			// The card cache knew the student: the session has a user id.
			f := journal.Finish{Total: amount, Reference: k.id + "/" + id, UserID: k.uid, Card: cardOf(k.uid), Reason: "enter", Offline: p.offline}
			if _, err := k.j.Append(
				journal.New(journal.KindSessionOpen, id, now, journal.SessionOpen{Card: cardOf(k.uid), UserID: k.uid, Offline: true}),
				journal.New(journal.KindCredit, id, now, journal.Credit{Device: "coins", Key: "1", Amount: amount}),
				journal.New(journal.KindFinish, id, now, f),
			); err != nil {
				tb.Fatal(err)
			}
			k.b.Book(id, f)
			step(k, now)
			schedule(k, now)
		}
		for len(wakes) > 0 && !wakes[0].wake.After(now) {
			k := wakes[0]
			step(k, now)
			schedule(k, now)
		}
		if up && len(fake.Ledger()) > commitsBefore {
			lastCommit = now
		}
		if up && len(topups) == 0 && len(wakes) == 0 {
			break
		}
	}

	var res fleetResult
	for _, k := range kiosks {
		if n := len(k.j.Ledger().Pending()); n != 0 {
			tb.Errorf("kiosk %s: %d top-ups still pending at the end", k.id, n)
		}
	}
	refs := map[string]int{}
	for _, c := range fake.Ledger() {
		refs[c.Description]++
	}
	for _, n := range refs {
		res.sessions++
		if n > 1 {
			res.duplicates += n - 1
		}
	}
	if want := p.kiosks * p.topups; res.sessions != want {
		tb.Errorf("MyQ committed %d top-ups, want %d", res.sessions, want)
	}
	load := fake.Load()
	for sec, n := range load {
		if sec < upAt.Unix() {
			res.peakDown = max(res.peakDown, n)
			continue
		}
		res.requests += n
		res.peak1s = max(res.peak1s, n)
		w := 0
		for s := sec; s < sec+10; s++ {
			w += load[s]
		}
		res.peak10s = max(res.peak10s, float64(w)/10)
	}
	res.overloaded = fake.Overloaded()
	if !lastCommit.IsZero() {
		res.drain = lastCommit.Sub(upAt)
	}
	return res
}

func (r fleetResult) String() string {
	return fmt.Sprintf("peak %d req/s (1 s), %.1f req/s (10 s), %d req/s during the outage; %d requests, %d answered 503 for capacity; drained in %v; %d top-ups, %d duplicates",
		r.peak1s, r.peak10s, r.peakDown, r.requests, r.overloaded, r.drain.Round(time.Second), r.sessions, r.duplicates)
}

// TestFleetOutageSmall is the CI-sized simulation: a campus scaled down to
// 10 kiosks, 5 top-ups each, 10 minutes of outage, and a MyQ that serves
// 12 requests/s, with the drain spacing set for it as for 500 kiosks at
// 50/s (2 requests a slot: 10 kiosks x 2 / 2 s = 10/s; the backoff cap 5 s,
// as 1 minute is to 23 s). MyQ must never see
// more than its capacity in a second, nothing is booked twice, and a top-up
// costs MyQ its create and commit, plus one token (kiosks that start without
// one) or one listing (kiosks that held a token, whose creates MyQ answered
// 503, so they may have been made) a kiosk.
func TestFleetOutageSmall(t *testing.T) {
	const kiosks, topups, capacity = 10, 5, 12
	for _, warm := range []bool{false, true} {
		r := runFleet(t, fleetParams{kiosks: kiosks, topups: topups, capacity: capacity, outage: 10 * time.Minute, seed: 1, warm: warm,
			cfg: func(c *Config) { c.DrainSpacing, c.MaxBackoff = 2*time.Second, 5*time.Second }})
		t.Logf("token before the outage %v: %v", warm, r)
		if r.duplicates != 0 {
			t.Errorf("%d duplicate commits", r.duplicates)
		}
		if r.peak1s > capacity || r.overloaded != 0 {
			t.Errorf("token before the outage %v: MyQ saw %d requests in one second (capacity %d) and answered %d with 503 for capacity", warm, r.peak1s, capacity, r.overloaded)
		}
		if want := kiosks + 2*kiosks*topups; r.requests > want {
			t.Errorf("token before the outage %v: %d requests after MyQ came back, want at most %d", warm, r.requests, want)
		}
	}
}

// BenchmarkFleetOutage prints the figures of docs/BENCHMARKS.md:
//
//	go test -run '^$' -bench FleetOutage -benchtime 1x ./kiosk/booking/
func BenchmarkFleetOutage(b *testing.B) {
	for _, n := range []int{1, 10, 100, 500} {
		b.Run(fmt.Sprintf("kiosks=%d", n), func(b *testing.B) {
			var r fleetResult
			for range b.N {
				r = runFleet(b, fleetParams{kiosks: n, topups: 20, capacity: 50, outage: time.Hour, seed: *fleetSeed, warm: *fleetWarm, offline: *fleetOffline,
					cfg: func(c *Config) { c.DrainSpacing, c.MaxBackoff = *fleetSpacing, *fleetMaxBackoff }})
			}
			b.ReportMetric(float64(r.peak1s), "peak-req/s")
			b.ReportMetric(r.peak10s, "peak10s-req/s")
			b.ReportMetric(r.drain.Seconds(), "drain-s")
			b.ReportMetric(float64(r.duplicates), "duplicates")
			b.ReportMetric(float64(r.overloaded), "503s")
			b.Logf("N=%d: %v", n, r)
		})
	}
}
