package booking

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/printroom/voucherkiosk/api"
	"github.com/printroom/voucherkiosk/api/myqfake"
	"github.com/printroom/voucherkiosk/devices"
	"github.com/printroom/voucherkiosk/kiosk"
	"github.com/printroom/voucherkiosk/kiosk/journal"
)

// The crash test re-executes this test binary as the kiosk (journal +
// engine/runner + booking) with these variables set; TestMain sends it to
// crashChild before any test runs.
const (
	crashChildEnv = "BOOKING_CRASH_CHILD" // "run" or "final"
	crashDirEnv   = "BOOKING_CRASH_DIR"
	crashURLEnv   = "BOOKING_CRASH_URL"
	crashCAEnv    = "BOOKING_CRASH_CA"
	crashSeedEnv  = "BOOKING_CRASH_SEED"
	crashKiosk    = "crash-kiosk"
)

var crashTopups = flag.Int("crash.topups", 200, "top-ups the crash test performs across its SIGKILLs")

// directory adapts the MyQ client to the engine's Directory.
type directory struct{ c *api.Client }

func (d directory) FindUserByCard(ctx context.Context, card string) (kiosk.User, error) {
	u, err := d.c.FindUserByCard(ctx, card)
	if errors.Is(err, api.ErrUserNotFound) {
		return kiosk.User{}, kiosk.ErrNotRegistered
	}
	if err != nil {
		return kiosk.User{}, err
	}
	return kiosk.User{ID: u.ID, Username: u.Username, FullName: u.FullName}, nil
}

// crashChild is the kiosk process the parent kills. "run": top-ups forever,
// self-driven from the seed, printing "credit <amount>" once a coin is
// counted (journaled) and "topup" once a session is finished. "final": no
// new money; exit 0 when the journal holds nothing pending or open.
func crashChild() int {
	fail := func(format string, a ...any) int {
		fmt.Fprintf(os.Stderr, "crash child: "+format+"\n", a...)
		return 3
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	j, err := journal.Open(journal.Options{Dir: os.Getenv(crashDirEnv), Log: log, CompactAfter: 300})
	if err != nil {
		return fail("journal: %v", err)
	}
	client, err := api.New(api.Config{URL: os.Getenv(crashURLEnv), ClientID: testClient, ClientSecret: testSecret, CAFile: os.Getenv(crashCAEnv), Timeout: 2 * time.Second, Log: log})
	if err != nil {
		return fail("client: %v", err)
	}
	var runner *kiosk.Runner
	bk, err := New(Config{
		Client: client, Journal: j, KioskID: crashKiosk, Log: log,
		MinBackoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond, DrainSpacing: 10 * time.Millisecond,
		OnResult: func(r Result) {
			runner.Post(kiosk.BookingResult{SessionID: r.SessionID, Committed: r.Committed, Attention: r.Attention, Err: r.Err})
		},
	})
	if err != nil {
		return fail("booker: %v", err)
	}
	events := make(chan devices.Event)
	runner, err = kiosk.NewRunner(kiosk.RunnerConfig{
		Engine: kiosk.Config{KioskID: crashKiosk, Currency: "EUR", IdleFinish: time.Hour, CardTimeout: time.Hour,
			MessageFor: time.Hour, BookingWait: 3 * time.Second, Accepted: []int64{50, 100, 200}},
		Journal: j, Restore: kiosk.RestoredFrom(j.Ledger()), Directory: directory{client}, Booker: bk,
		Events: events, Log: log,
	})
	if err != nil {
		return fail("runner: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); runner.Run(ctx) }()
	go func() { defer wg.Done(); bk.Run(ctx) }()
	defer func() { cancel(); wg.Wait(); j.Close() }()

	if os.Getenv(crashChildEnv) == "final" {
		deadline := time.Now().Add(60 * time.Second)
		for {
			l := j.Ledger()
			if len(l.Pending()) == 0 && len(l.OpenSessions()) == 0 {
				return 0
			}
			if time.Now().After(deadline) {
				return fail("final: still pending %d, open %d", len(l.Pending()), len(l.OpenSessions()))
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	seed, _ := strconv.ParseUint(os.Getenv(crashSeedEnv), 10, 64)
	rnd := rand.New(rand.NewPCG(seed, 7))
	states, unsub := runner.Subscribe()
	defer unsub()
	var st kiosk.State
	wait := func(what string, ok func(kiosk.State) bool) bool {
		timeout := time.After(30 * time.Second)
		for !ok(st) {
			select {
			case s, open := <-states:
				if !open {
					return false
				}
				st = s
			case <-timeout:
				fmt.Fprintf(os.Stderr, "crash child: timed out waiting for %s (phase %v)\n", what, st.Phase)
				return false
			}
		}
		return true
	}
	out := bufio.NewWriter(os.Stdout)
	for {
		if !wait("idle", func(s kiosk.State) bool {
			return s.Phase == kiosk.PhaseIdle || s.Phase == kiosk.PhaseCredited || s.Phase == kiosk.PhaseSavedOffline
		}) {
			return 3
		}
		uid := int64(rnd.IntN(numUsers)) + 1
		events <- devices.CardRead{Device: "card", Number: cardOf(uid), At: time.Now()}
		if !wait("session", func(s kiosk.State) bool { return s.Phase == kiosk.PhaseSession }) {
			return 3
		}
		for range 1 + rnd.IntN(3) {
			amt := []int64{50, 100, 200}[rnd.IntN(3)]
			want := st.Total + amt
			events <- devices.Credit{Device: "coins", Amount: amt, Key: strconv.FormatInt(amt, 10), At: time.Now()}
			if !wait("credit", func(s kiosk.State) bool { return s.Total == want }) {
				return 3
			}
			fmt.Fprintf(out, "credit %d\n", amt)
			out.Flush()
		}
		runner.Key(kiosk.KeyEnter)
		if !wait("finish", func(s kiosk.State) bool { return s.Phase != kiosk.PhaseSession }) {
			return 3
		}
		fmt.Fprintln(out, "topup")
		out.Flush()
	}
}

// TestCrash kills the kiosk process with SIGKILL at random points of many
// top-ups, with answers lost on the way, and restarts it over the same
// journal each time. MyQ (the fake) lives in this process and survives.
// At the end the money MyQ booked equals the money the journal took,
// exactly once.
func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary many times")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	fake, run := startFake(t)
	ca, err := run.WriteCAFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	rnd := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	env := func(mode string, seed uint64) []string {
		return append(os.Environ(), crashChildEnv+"="+mode, crashDirEnv+"="+dir, crashURLEnv+"="+run.URL,
			crashCAEnv+"="+ca, crashSeedEnv+"="+strconv.FormatUint(seed, 10))
	}
	var topups, runs int
	var acked int64
	start := time.Now()
	for topups < *crashTopups {
		runs++
		switch rnd.IntN(6) {
		case 0:
			fake.DropAnswer(myqfake.RouteCreate, 1)
		case 1:
			fake.DropAnswer(myqfake.RouteCommit, 1)
		}
		cmd := exec.Command(exe, "-test.run=^$")
		cmd.Env = env("run", rnd.Uint64())
		var stderr strings.Builder
		cmd.Stderr = &stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		killAt := 1 + rnd.IntN(30)
		delay := time.Duration(rnd.IntN(3000)) * time.Microsecond
		sc := bufio.NewScanner(stdout)
		lines := 0
		for lines < killAt && sc.Scan() {
			lines++
			f := strings.Fields(sc.Text())
			switch {
			case len(f) == 2 && f[0] == "credit":
				n, _ := strconv.ParseInt(f[1], 10, 64)
				acked += n
			case len(f) == 1 && f[0] == "topup":
				topups++
			}
		}
		time.Sleep(delay) // somewhere in the next coin, finish or booking
		cmd.Process.Kill()
		for sc.Scan() {
			// Lines printed before the kill landed: their coins were counted.
			if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == "credit" {
				n, _ := strconv.ParseInt(f[1], 10, 64)
				acked += n
			} else if len(f) == 1 && f[0] == "topup" {
				topups++
			}
		}
		if err := cmd.Wait(); err != nil && !strings.Contains(err.Error(), "killed") {
			t.Fatalf("run %d: child ended on its own: %v\n%s", runs, err, stderr.String())
		}
		if lines < killAt {
			t.Fatalf("run %d: child stopped talking after %d lines\n%s", runs, lines, stderr.String())
		}
	}
	fake.DropAnswer(myqfake.RouteCreate, 0)
	fake.DropAnswer(myqfake.RouteCommit, 0)

	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = env("final", 0)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("final run: %v\n%s", err, out)
	}

	j, err := journal.Open(journal.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	cash := j.Ledger().Cash()
	if err := fake.Check(); err != nil {
		t.Fatal(err)
	}
	var booked api.Money
	for _, m := range fake.Totals() {
		booked += m
	}
	t.Logf("%d top-ups over %d SIGKILLs in %v: journal took %s, MyQ booked %s, %d commits, %s acknowledged on screen",
		topups, runs, time.Since(start).Round(time.Millisecond), api.Money(cash.Accepted), booked, len(fake.Ledger()), api.Money(acked))
	if cash.Pending != 0 || cash.InSession != 0 || cash.Unclaimed != 0 {
		t.Fatalf("journal not settled: %+v", cash)
	}
	if booked != api.Money(cash.Accepted) || cash.Committed != cash.Accepted {
		t.Fatalf("MyQ booked %s, the journal took %s (committed %s)", booked, api.Money(cash.Accepted), api.Money(cash.Committed))
	}
	if booked < api.Money(acked) {
		t.Fatalf("MyQ booked %s, less than the %s the screen counted", booked, api.Money(acked))
	}
}
