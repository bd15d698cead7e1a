package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/printroom/voucherkiosk/api/myqfake"
	"github.com/printroom/voucherkiosk/e2e"
	"github.com/printroom/voucherkiosk/kiosk/control"
	"github.com/printroom/voucherkiosk/kiosk/journal"
)

// kioskbench measures the real daemon from outside, with the e2e
// harness: kioskd on an 80x24 tmux pane, simulated devices on ptys and the
// fake MyQ over HTTPS in this process.

type benchOptions struct {
	runs    int
	quick   bool
	kioskd  string
	topups  int
	flush   int
	idle    time.Duration
	verbose bool
}

func runBench(ctx context.Context, e *env, o benchOptions) error {
	def := func(p *int, full, quick int) {
		if *p == 0 {
			*p = full
			if o.quick {
				*p = quick
			}
		}
	}
	def(&o.runs, 20, 5)
	def(&o.topups, 1000, 100)
	def(&o.flush, 10000, 1000)
	if o.idle == 0 {
		o.idle = 30 * time.Second
		if o.quick {
			o.idle = 10 * time.Second
		}
	}
	if o.runs < 1 || o.topups < 1 || o.flush < 1 {
		return fmt.Errorf("%w: --runs, --topups and --flush must be positive", errUsage)
	}
	if _, err := exec.LookPath("tmux"); err != nil {
		return fmt.Errorf("bench needs tmux: %w", err)
	}

	b := &bencher{o: o, e: e}
	defer b.cleanup()
	if b.o.kioskd == "" {
		dir, err := os.MkdirTemp("", "kioskctl-bench-")
		if err != nil {
			return err
		}
		b.cleanups = append(b.cleanups, func() { os.RemoveAll(dir) })
		b.logf("building kioskd")
		if b.o.kioskd, err = e2e.BuildKioskd(dir); err != nil {
			return err
		}
	}
	steps := []struct {
		name string
		f    func() error
	}{
		{"screen latencies", b.screenLatencies},
		{"start and idle", b.startAndIdle},
		{"top-ups", b.topupLoop},
		{"journal append", b.journalAppend},
		{"flush", b.flushQueue},
		{"binary size", b.binarySize},
	}
	for _, s := range steps {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		b.logf("measuring: %s", s.name)
		if err := s.f(); err != nil {
			b.rows = append(b.rows, row{name: s.name, note: "FAILED: " + firstLine(err.Error())})
			fmt.Fprintf(e.stderr, "kioskbench: %s: %v\n", s.name, err)
		}
	}
	b.print(e.stdout)
	for _, r := range b.rows {
		if strings.HasPrefix(r.note, "FAILED") {
			return &exitError{code: 1, err: fmt.Errorf("some measurements failed")}
		}
	}
	return nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// row is one line of the table. Latency rows have samples; others a value.
type row struct {
	name    string
	samples []time.Duration
	value   string
	goal    string
	met     string // "yes", "NO", "" (no goal)
	note    string
}

type bencher struct {
	o        benchOptions
	e        *env
	rows     []row
	cleanups []func()
}

func (b *bencher) logf(format string, args ...any) {
	if b.o.verbose {
		fmt.Fprintf(b.e.stderr, "bench: "+format+"\n", args...)
	}
}

func (b *bencher) cleanup() {
	for i := len(b.cleanups) - 1; i >= 0; i-- {
		b.cleanups[i]()
	}
	b.cleanups = nil
}

// benchTB lets the e2e harness run outside `go test`: Fatalf unwinds to
// guard, Cleanup runs when the step ends.
type benchTB struct {
	b        *bencher
	cleanups []func()
}

type benchFatal struct{ msg string }

func (t *benchTB) Helper()                         {}
func (t *benchTB) Logf(format string, args ...any) { t.b.logf(format, args...) }
func (t *benchTB) Fatalf(format string, args ...any) {
	panic(benchFatal{fmt.Sprintf(format, args...)})
}
func (t *benchTB) Cleanup(f func()) { t.cleanups = append(t.cleanups, f) }

var _ e2e.TB = (*benchTB)(nil)

// withKiosk runs f with a kiosk built by the harness, torn down afterwards.
func (b *bencher) withKiosk(o e2e.Options, f func(k *e2e.Kiosk) error) (err error) {
	tb := &benchTB{b: b}
	defer func() {
		for i := len(tb.cleanups) - 1; i >= 0; i-- {
			tb.cleanups[i]()
		}
	}()
	defer func() {
		if r := recover(); r != nil {
			bf, ok := r.(benchFatal)
			if !ok {
				panic(r)
			}
			err = fmt.Errorf("%s", bf.msg)
		}
	}()
	o.Kioskd = b.o.kioskd
	if o.LogLevel == "" {
		o.LogLevel = "info"
	}
	k := e2e.New(tb, o)
	return f(k)
}

// fastCoins: one-pulse coins with the shortest pulse_gap, so the coin is
// decided 20 ms after its pulse; that gap is subtracted from "coin →
// counted" below (it is the acceptor's protocol, not the kiosk's work).
var fastCoins = e2e.Options{Pulse: true, PulseWidth: 5 * time.Millisecond, PulseGap: "20ms", CoinGap: 80 * time.Millisecond}

const fastPulseGap = 20 * time.Millisecond

// The reader ignores the same card for 1.5 s after its last frame (a held
// card repeats), so consecutive taps alternate between two users' cards.
func (b *bencher) screenLatencies() error {
	return b.withKiosk(fastCoins, func(k *e2e.Kiosk) error {
		users := e2e.Users()[:2]
		k.StartAndWaitIdle()
		// Warm up: token, TLS session, first lookup of each card.
		for _, u := range users {
			k.Tap(u.Cards[0])
			k.WaitScreen("Hello, " + u.FullName)
			k.SendKeys("Escape")
			k.WaitScreen("Tap your card")
		}
		turn := 0
		for _, lat := range []time.Duration{0, 20 * time.Millisecond} {
			k.Fake.SetLatency(lat)
			phase := time.Now()
			var tap, enter, coin []time.Duration
			for i := 0; i < b.o.runs; i++ {
				u := users[turn%2]
				turn++
				// card tap → name
				t0 := time.Now()
				done := make(chan error, 1)
				go func() { done <- k.Reader.TapCard(e2e.RDM6300Hex(u.Cards[0])) }()
				t1, err := k.PollScreen(e2e.ScreenWait, e2e.Contains("Hello, "+u.FullName))
				<-done
				if err != nil {
					return err
				}
				tap = append(tap, t1.Sub(t0))

				// coin → counted
				t0 = time.Now()
				go func() { done <- k.Coins.InsertCoin(1) }()
				t1, err = k.PollScreen(e2e.ScreenWait, func(s string) bool { return e2e.HasBig(s, e2e.Money(50)) })
				<-done
				if err != nil {
					return err
				}
				if lat == 0 {
					coin = append(coin, t1.Sub(t0)-fastPulseGap)
				}

				// Enter → credited
				t0 = time.Now()
				k.SendKeys("Enter")
				t1, err = k.PollScreen(e2e.ScreenWait, e2e.Credited(50))
				if err != nil {
					return err
				}
				enter = append(enter, t1.Sub(t0))
				k.SendKeys("Enter")
				k.WaitScreen("Tap your card")
			}
			ms := lat.Milliseconds()
			b.rows = append(b.rows,
				row{name: fmt.Sprintf("card tap → name on screen, MyQ +%d ms", ms), samples: tap,
					goal: fmt.Sprintf("p95 ≤ RTT+10 ms = %d ms", ms+10), met: goalMet(p95(tap), time.Duration(ms+10)*time.Millisecond)},
				row{name: fmt.Sprintf("Enter → \"credited\" on screen, MyQ +%d ms", ms), samples: enter,
					goal: fmt.Sprintf("p95 ≤ 2 RTT+fsync+10 ms ≈ %d ms", 2*ms+10+2), met: goalMet(p95(enter), time.Duration(2*ms+12)*time.Millisecond),
					note: "fsync counted as 2 ms"},
			)
			b.journalBooking(k, phase, lat)
			if lat == 0 {
				b.rows = append(b.rows, row{name: "coin → counted on screen (after pulse_gap)", samples: coin,
					goal: "≤ fsync+10 ms ≈ 12 ms", met: goalMet(p95(coin), 12*time.Millisecond),
					note: "pulse_gap 20 ms subtracted"})
			}
		}
		return k.Fake.Check()
	})
}

// journalBooking adds the daemon's own view of booking: from the finish
// record (written when Enter arrives) to the committed record of each
// session finished since phase, by their journal times.
func (b *bencher) journalBooking(k *e2e.Kiosk, phase time.Time, lat time.Duration) {
	recs, err := k.JournalRecords()
	if err != nil {
		b.logf("journal: %v", err)
		return
	}
	fin := map[string]time.Time{}
	var d []time.Duration
	for _, r := range recs {
		switch r.Kind {
		case journal.KindFinish:
			if !r.Time.Before(phase) {
				fin[r.Session] = r.Time
			}
		case journal.KindCommitted:
			if t, ok := fin[r.Session]; ok {
				d = append(d, r.Time.Sub(t))
			}
		}
	}
	if len(d) > 0 {
		b.rows = append(b.rows, row{name: fmt.Sprintf("  daemon: finish → committed record, MyQ +%d ms", lat.Milliseconds()), samples: d,
			note: "journal times: create, commit and their fsyncs"})
	}
}

// procStat reads utime+stime (clock ticks) of pid.
func procStat(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no comm", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: short", pid)
	}
	// After the comm: state is field 3, utime 14 and stime 15 (1-based).
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: bad times", pid)
	}
	return ut + st, nil
}

// procStatus reads a kB field (VmRSS, VmHWM) of /proc/pid/status.
func procStatus(pid int, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("/proc/%d/status: no %s", pid, field)
}

// clockTicks is USER_HZ; 100 on every Linux the kiosk runs on.
const clockTicks = 100

func (b *bencher) startAndIdle() error {
	return b.withKiosk(fastCoins, func(k *e2e.Kiosk) error {
		var start, ready []time.Duration
		for i := 0; i < b.o.runs; i++ {
			if i > 0 {
				k.Signal(syscall.SIGTERM)
				k.WaitExit(e2e.ScreenWait)
			}
			t0 := time.Now()
			k.Start()
			t1, err := k.PollScreen(e2e.ScreenWait, e2e.Contains("Tap your card"))
			if err != nil {
				return err
			}
			start = append(start, t1.Sub(t0))
			if d, ok := lastStartup(k.Log()); ok {
				ready = append(ready, d)
			}
		}
		b.rows = append(b.rows, row{name: "start → interactive screen (tmux)", samples: start,
			goal: "≤ 300 ms", met: goalMet(p95(start), 300*time.Millisecond), note: "tmux new-session/respawn-pane to idle screen"})
		if len(ready) > 0 {
			b.rows = append(b.rows, row{name: "start → ready (kioskd.log \"startup\")", samples: ready,
				goal: "≤ 300 ms", met: goalMet(p95(ready), 300*time.Millisecond), note: "daemon's own clock"})
		}

		pid := k.PID()
		// Let the start settle, then sample.
		time.Sleep(2 * time.Second)
		c0, err := procStat(pid)
		if err != nil {
			return err
		}
		t0 := time.Now()
		time.Sleep(b.o.idle)
		c1, err := procStat(pid)
		if err != nil {
			return err
		}
		el := time.Since(t0)
		pct := float64(c1-c0) / clockTicks / el.Seconds() * 100
		b.rows = append(b.rows, row{name: fmt.Sprintf("idle CPU over %v", b.o.idle.Round(time.Second)),
			value: fmt.Sprintf("%.2f %% of a core (%d ticks)", pct, c1-c0), goal: "≤ 0.5 %", met: yesNo(pct <= 0.5),
			note: "/proc/<pid>/stat utime+stime"})
		return nil
	})
}

// lastStartup finds the last `kiosk ready ... startup=NNNms` in the log.
func lastStartup(log string) (time.Duration, bool) {
	var d time.Duration
	ok := false
	for _, l := range strings.Split(log, "\n") {
		if !strings.Contains(l, "kiosk ready") {
			continue
		}
		for _, f := range strings.Fields(l) {
			if v, found := strings.CutPrefix(f, "startup="); found {
				if x, err := time.ParseDuration(v); err == nil {
					d, ok = x, true
				}
			}
		}
	}
	return d, ok
}

func (b *bencher) topupLoop() error {
	return b.withKiosk(fastCoins, func(k *e2e.Kiosk) error {
		users := e2e.Users()[:2]
		k.StartAndWaitIdle()
		turn := 0
		one := func() {
			u := users[turn%2]
			turn++
			k.Tap(u.Cards[0])
			k.WaitScreen("Hello, " + u.FullName)
			k.Coin(50)
			k.WaitTotal(50)
			k.SendKeys("Enter")
			k.WaitCredited(50)
			k.SendKeys("Enter")
			k.WaitScreen("Tap your card")
		}
		one() // warm: token, both cards cached
		one()
		if err := waitLedger(k, 2); err != nil {
			return err
		}
		k.Fake.ResetRequests()
		t0 := time.Now()
		for i := 0; i < b.o.topups; i++ {
			one()
			if (i+1)%100 == 0 {
				b.logf("%d top-ups", i+1)
			}
		}
		el := time.Since(t0)
		if err := waitLedger(k, b.o.topups+2); err != nil {
			return err
		}
		if err := k.Fake.Check(); err != nil {
			return err
		}
		var sum int64
		for _, v := range k.Fake.Totals() {
			sum += int64(v)
		}
		if want := int64(b.o.topups+2) * 50; sum != want {
			return fmt.Errorf("ledger %d, want %d", sum, want)
		}
		pid := k.PID()
		rss, err := procStatus(pid, "VmRSS")
		if err != nil {
			return err
		}
		hwm, _ := procStatus(pid, "VmHWM")
		b.rows = append(b.rows, row{name: fmt.Sprintf("RSS after %d top-ups", b.o.topups),
			value: fmt.Sprintf("%.1f MB (peak %.1f MB)", float64(rss)/1024, float64(hwm)/1024), goal: "≤ 30 MB",
			met: yesNo(rss <= 30*1024), note: fmt.Sprintf("%.0f ms per top-up through the screen", float64(el.Milliseconds())/float64(b.o.topups))})

		total := 0
		var parts []string
		for r := myqfake.RouteUnknown; r <= myqfake.RouteVoucherCommit; r++ { // every route the fake counts
			n := k.Fake.Requests(r)
			total += n
			if n > 0 {
				parts = append(parts, fmt.Sprintf("%s %.2f", r, float64(n)/float64(b.o.topups)))
			}
		}
		per := float64(total) / float64(b.o.topups)
		b.rows = append(b.rows, row{name: "API requests per top-up", value: fmt.Sprintf("%.2f", per),
			goal: "3 (find, create, commit)", met: yesNo(per <= 3.0001), note: strings.Join(parts, ", ")})
		return nil
	})
}

func waitLedger(k *e2e.Kiosk, n int) error {
	deadline := time.Now().Add(e2e.LedgerWait)
	for len(k.Fake.Ledger()) < n {
		if time.Now().After(deadline) {
			return fmt.Errorf("ledger has %d commits, want %d", len(k.Fake.Ledger()), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

func (b *bencher) journalAppend() error {
	dir, err := os.MkdirTemp("", "kioskctl-bench-journal-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	j, err := journal.Open(journal.Options{Dir: dir, CompactAfter: -1})
	if err != nil {
		return err
	}
	defer j.Close()
	now := time.Now()
	if _, err := j.Append(journal.New(journal.KindSessionOpen, "bench", now, journal.SessionOpen{Card: "0012345678", UserID: 101})); err != nil {
		return err
	}
	n := 50 * b.o.runs
	lat := make([]time.Duration, 0, n)
	for i := 0; i < n; i++ {
		rec := journal.New(journal.KindCredit, "bench", time.Now(), journal.Credit{Device: "coins", Key: "1", Amount: 50})
		t0 := time.Now()
		if _, err := j.Append(rec); err != nil {
			return err
		}
		lat = append(lat, time.Since(t0))
	}
	sort.Slice(lat, func(i, k int) bool { return lat[i] < lat[k] })
	p50, p99 := lat[len(lat)/2], lat[min(len(lat)-1, len(lat)*99/100)]
	b.rows = append(b.rows, row{name: fmt.Sprintf("journal append (write+fsync), %d appends", n),
		value: fmt.Sprintf("p50 %s, p99 %s", fmtDur(p50), fmtDur(p99)), note: "state dir on " + fsOf(dir)})
	return nil
}

// fsOf names the filesystem of dir (from /proc/mounts), for the record.
func fsOf(dir string) string {
	b, err := os.ReadFile("/proc/mounts")
	if err != nil {
		return "?"
	}
	best, typ := "", "?"
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 3 {
			continue
		}
		if strings.HasPrefix(dir, f[1]) && len(f[1]) > len(best) {
			best, typ = f[1], f[2]
		}
	}
	return typ
}

func (b *bencher) flushQueue() error {
	return b.withKiosk(fastCoins, func(k *e2e.Kiosk) error {
		u := e2e.Users()[0]
		if err := os.MkdirAll(k.StateDir, 0o700); err != nil {
			return err
		}
		// The queue a long outage leaves: finished sessions, none booked.
		j, err := journal.Open(journal.Options{Dir: k.StateDir, CompactAfter: -1})
		if err != nil {
			return err
		}
		now := time.Now().Add(-time.Hour)
		const batch = 500
		var recs []journal.Record
		for i := 0; i < b.o.flush; i++ {
			id := fmt.Sprintf("q%06d", i)
			recs = append(recs,
				journal.New(journal.KindSessionOpen, id, now, journal.SessionOpen{Card: u.Cards[0], UserID: u.ID, Username: u.Username, FullName: u.FullName}),
				journal.New(journal.KindCredit, id, now, journal.Credit{Device: "coins", Key: "1", Amount: 50}),
				journal.New(journal.KindFinish, id, now, journal.Finish{Total: 50, Reference: "e2e-kiosk/" + id,
					UserID: u.ID, Card: u.Cards[0], FullName: u.FullName, Reason: "enter"}),
			)
			if len(recs) >= batch*3 || i == b.o.flush-1 {
				if _, err := j.Append(recs...); err != nil {
					j.Close()
					return err
				}
				recs = recs[:0]
			}
		}
		if err := j.Close(); err != nil {
			return err
		}
		b.logf("journal with %d queued payments written", b.o.flush)
		t0 := time.Now()
		k.Start()
		deadline := t0.Add(10 * time.Minute)
		for len(k.Fake.Ledger()) < b.o.flush {
			if time.Now().After(deadline) {
				return fmt.Errorf("flush: %d of %d booked after %v", len(k.Fake.Ledger()), b.o.flush, time.Since(t0))
			}
			time.Sleep(10 * time.Millisecond)
		}
		el := time.Since(t0)
		// Settle: nothing more may be committed, the queue must be empty.
		qctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for {
			q, err := control.Dial(k.StateDir).Queue(qctx)
			if err == nil && len(q) == 0 {
				break
			}
			if qctx.Err() != nil {
				return fmt.Errorf("flush: queue not empty after the ledger was complete (%v)", err)
			}
			time.Sleep(50 * time.Millisecond)
		}
		dup := "0 duplicates (fake.Check)"
		met := el <= 30*time.Second
		if err := k.Fake.Check(); err != nil {
			dup, met = "DUPLICATES: "+err.Error(), false
		}
		if n := len(k.Fake.Ledger()); n != b.o.flush {
			dup, met = fmt.Sprintf("%d commits for %d payments", n, b.o.flush), false
		}
		b.rows = append(b.rows, row{name: fmt.Sprintf("flush of %d queued payments", b.o.flush),
			value: fmtDur(el), goal: "≤ 30 s, 0 duplicates", met: yesNo(met),
			note: fmt.Sprintf("%s; %.0f payments/s; from exec", dup, float64(b.o.flush)/el.Seconds())})
		return nil
	})
}

func (b *bencher) binarySize() error {
	dir, err := os.MkdirTemp("", "kioskctl-bench-size-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "kioskd-arm64")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", out, "github.com/printroom/voucherkiosk/cmd/kioskd")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64")
	if o, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build (linux/arm64): %w\n%s", err, o)
	}
	st, err := os.Stat(out)
	if err != nil {
		return err
	}
	mb := float64(st.Size()) / 1e6
	b.rows = append(b.rows, row{name: "kioskd linux/arm64 binary (-s -w, trimpath)",
		value: fmt.Sprintf("%.1f MB (%d bytes)", mb, st.Size()), goal: "≤ 15 MB", met: yesNo(mb <= 15)})
	return nil
}

func goalMet(v, goal time.Duration) string { return yesNo(v <= goal) }

func yesNo(ok bool) string {
	if ok {
		return "yes"
	}
	return "NO"
}

// p95 is the nearest-rank 95th percentile.
func p95(s []time.Duration) time.Duration {
	if len(s) == 0 {
		return 0
	}
	c := append([]time.Duration(nil), s...)
	sort.Slice(c, func(i, j int) bool { return c[i] < c[j] })
	i := (95*len(c) + 99) / 100
	return c[max(i-1, 0)]
}

func fmtDur(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%d µs", d.Microseconds())
	case d < 10*time.Second:
		return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000)
	}
	return fmt.Sprintf("%.1f s", d.Seconds())
}

func (b *bencher) print(w io.Writer) {
	fmt.Fprintf(w, "kioskd end-to-end benchmarks (%s/%s, %d CPUs, runs=%d)\n\n", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), b.o.runs)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "figure\tmedian\tp95\tmin\tmax\tgoal\tmet\tnote")
	for _, r := range b.rows {
		if len(r.samples) > 0 {
			c := append([]time.Duration(nil), r.samples...)
			sort.Slice(c, func(i, j int) bool { return c[i] < c[j] })
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.name, fmtDur(c[len(c)/2]), fmtDur(p95(c)),
				fmtDur(c[0]), fmtDur(c[len(c)-1]), r.goal, r.met, r.note)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t\t\t\t%s\t%s\t%s\n", r.name, r.value, r.goal, r.met, r.note)
	}
	tw.Flush()
}
