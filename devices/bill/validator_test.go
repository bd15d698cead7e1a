package bill_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/printroom/voucherkiosk/devices"
	"github.com/printroom/voucherkiosk/devices/bill"
	"github.com/printroom/voucherkiosk/devices/devsim/sspsim"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var euro = []int64{500, 1000, 2000, 5000}

func euroValues() map[int]int64 { return map[int]int64{1: 500, 2: 1000, 3: 2000, 4: 5000} }

// engine stands in for the kiosk engine: it records every event and answers
// escrow with decide.
type engine struct {
	mu     sync.Mutex
	events []devices.Event
	decide func(devices.Escrow) (devices.EscrowDecision, bool)
}

func (e *engine) run(ctx context.Context, out <-chan devices.Event) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-out:
			e.mu.Lock()
			e.events = append(e.events, ev)
			d := e.decide
			e.mu.Unlock()
			if c, ok := ev.(devices.Credit); ok && c.Ack != nil {
				c.Ack() // recorded: this engine's journal
			}
			if es, ok := ev.(devices.Escrow); ok && d != nil {
				if dec, now := d(es); now {
					es.Decide <- dec
				}
			}
		}
	}
}

func (e *engine) snapshot() []devices.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]devices.Event(nil), e.events...)
}

// waitFor polls until cond holds over the recorded events (10 s at most).
func (e *engine) waitFor(t *testing.T, what string, cond func([]devices.Event) bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if cond(e.snapshot()) {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s; events: %v", what, e.snapshot())
}

type rig struct {
	sim    *sspsim.Sim
	v      *bill.Validator
	eng    *engine
	errc   chan error
	cancel context.CancelFunc
}

func start(t *testing.T, opts sspsim.Options, cfg bill.Config, decide func(devices.Escrow) (devices.EscrowDecision, bool)) *rig {
	t.Helper()
	if opts.Channels == nil {
		opts.Channels = euro
	}
	sim, err := sspsim.New(t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return startOn(t, sim, cfg, decide)
}

// startOn runs a validator against a simulator already set up.
func startOn(t *testing.T, sim *sspsim.Sim, cfg bill.Config, decide func(devices.Escrow) (devices.EscrowDecision, bool)) *rig {
	t.Helper()
	cfg.Name, cfg.Port = "notes", sim.Path()
	if cfg.Values == nil {
		cfg.Values = euroValues()
	}
	if cfg.Currency == "" {
		cfg.Currency = "EUR"
	}
	cfg.PollInterval = 10 * time.Millisecond
	cfg.Reconnect = 50 * time.Millisecond
	if cfg.Timeout == 0 {
		cfg.Timeout = 300 * time.Millisecond
	}
	v, err := bill.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	v.SetAccepting(true)
	ctx, cancel := context.WithCancel(context.Background())
	out := make(chan devices.Event)
	r := &rig{sim: sim, v: v, eng: &engine{decide: decide}, errc: make(chan error, 1), cancel: cancel}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); r.eng.run(ctx, out) }()
	go func() { r.errc <- v.Run(ctx, out) }()
	t.Cleanup(func() {
		cancel()
		if err := <-r.errc; err != nil {
			t.Errorf("Run: %v", err)
		}
		wg.Wait()
		sim.Close()
	})
	return r
}

// insert feeds a note once the host has enabled the device.
func (r *rig) insert(t *testing.T, ch int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := r.sim.InsertNote(ch)
		if err == nil {
			return
		}
		if !errors.Is(err, sspsim.ErrNotAccepting) || time.Now().After(deadline) {
			t.Fatalf("insert note %d: %v", ch, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func stack(devices.Escrow) (devices.EscrowDecision, bool)  { return devices.Stack, true }
func reject(devices.Escrow) (devices.EscrowDecision, bool) { return devices.Reject, true }

func credits(evs []devices.Event) []devices.Credit {
	var cs []devices.Credit
	for _, e := range evs {
		if c, ok := e.(devices.Credit); ok {
			cs = append(cs, c)
		}
	}
	return cs
}

func escrows(evs []devices.Event) []devices.Escrow {
	var es []devices.Escrow
	for _, e := range evs {
		if c, ok := e.(devices.Escrow); ok {
			es = append(es, c)
		}
	}
	return es
}

func returned(evs []devices.Event) []devices.NoteReturned {
	var rs []devices.NoteReturned
	for _, e := range evs {
		if c, ok := e.(devices.NoteReturned); ok {
			rs = append(rs, c)
		}
	}
	return rs
}

func hasStatus(evs []devices.Event, s devices.Status) bool {
	for _, e := range evs {
		if c, ok := e.(devices.StatusChange); ok && c.Status == s {
			return true
		}
	}
	return false
}

func TestNoteFlow(t *testing.T) {
	for _, tc := range []struct {
		name    string
		opts    sspsim.Options
		wantAck bool
	}{
		{"protocol 8 plain: POLL_WITH_ACK needs encryption", sspsim.Options{}, false},
		{"protocol 6 plain poll", sspsim.Options{Protocol: 6}, false},
		{"encrypted", sspsim.Options{Encryption: true}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := start(t, tc.opts, bill.Config{Encryption: tc.opts.Encryption}, stack)
			r.insert(t, 2)
			r.eng.waitFor(t, "credit", func(evs []devices.Event) bool { return len(credits(evs)) == 1 })
			evs := r.eng.snapshot()
			es, cs := escrows(evs), credits(evs)
			if len(es) != 1 || es[0].Key != "2" || es[0].Amount != 1000 || es[0].NoteID == "" {
				t.Fatalf("escrow events: %+v", es)
			}
			if cs[0].NoteID != es[0].NoteID || cs[0].Amount != 1000 || cs[0].Key != "2" {
				t.Fatalf("credit %+v does not settle escrow %+v", cs[0], es[0])
			}
			if got := r.sim.Stacked(); len(got) != 1 || got[0] != 2 {
				t.Fatalf("stacked %v", got)
			}
			info := r.v.Info()
			if info.Encrypted != tc.opts.Encryption || info.PollWithAck != tc.wantAck || len(info.Setup.Channels) != 4 {
				t.Fatalf("info %+v", info)
			}
		})
	}
}

func TestDecideReject(t *testing.T) {
	r := start(t, sspsim.Options{}, bill.Config{}, reject)
	r.insert(t, 3)
	r.eng.waitFor(t, "note returned", func(evs []devices.Event) bool { return len(returned(evs)) == 1 })
	evs := r.eng.snapshot()
	if rs, es := returned(evs), escrows(evs); rs[0].NoteID != es[0].NoteID {
		t.Fatalf("returned %+v for escrow %+v", rs, es)
	}
	if len(credits(evs)) != 0 || len(r.sim.Stacked()) != 0 {
		t.Fatalf("rejected note credited: %v, stacked %v", credits(evs), r.sim.Stacked())
	}
}

func TestHoldLimitRejects(t *testing.T) {
	// The engine never answers: the driver rejects after its hold limit.
	r := start(t, sspsim.Options{}, bill.Config{HoldLimit: 300 * time.Millisecond}, nil)
	r.insert(t, 1)
	r.eng.waitFor(t, "note returned", func(evs []devices.Event) bool { return len(returned(evs)) == 1 })
	if len(r.sim.Stacked()) != 0 {
		t.Fatal("unanswered note stacked")
	}
}

func TestDeviceRejectsAndAlarms(t *testing.T) {
	r := start(t, sspsim.Options{}, bill.Config{}, nil)
	r.insert(t, 1)
	r.eng.waitFor(t, "escrow", func(evs []devices.Event) bool { return len(escrows(evs)) == 1 })
	r.sim.Reject()
	r.eng.waitFor(t, "note returned", func(evs []devices.Event) bool { return len(returned(evs)) == 1 })
	r.sim.Jam()
	r.sim.StackerFull()
	r.sim.CashboxRemoved()
	for _, s := range []devices.Status{devices.StatusJammed, devices.StatusStackerFull, devices.StatusCashboxRemoved, devices.StatusNoteRejected} {
		r.eng.waitFor(t, s.String(), func(evs []devices.Event) bool { return hasStatus(evs, s) })
	}
}

func TestLostReplyNoDoubleCredit(t *testing.T) {
	var r *rig
	r = start(t, sspsim.Options{}, bill.Config{}, func(devices.Escrow) (devices.EscrowDecision, bool) {
		// The reply to the poll that stacks the note (and the next) is lost.
		r.sim.DropReplies(2)
		return devices.Stack, true
	})
	r.insert(t, 4)
	r.eng.waitFor(t, "credit", func(evs []devices.Event) bool { return len(credits(evs)) == 1 })
	r.insert(t, 1) // the link still works afterwards
	r.eng.waitFor(t, "second credit", func(evs []devices.Event) bool { return len(credits(evs)) == 2 })
	time.Sleep(100 * time.Millisecond)
	if cs := credits(r.eng.snapshot()); len(cs) != 2 || cs[0].Amount != 5000 || cs[1].Amount != 500 {
		t.Fatalf("credits %+v", cs)
	}
	if got := r.sim.Stacked(); len(got) != 2 {
		t.Fatalf("stacked %v", got)
	}
}

func TestDisconnectInEscrow(t *testing.T) {
	for _, tc := range []struct {
		name   string
		decide bool // the engine answers Stack while the cable is out
		credit bool
	}{
		{"stack after reconnect", true, true},
		{"no decision: returned", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r *rig
			decisions := make(chan chan<- devices.EscrowDecision, 1)
			r = start(t, sspsim.Options{HoldTimeout: 2 * time.Second}, bill.Config{HoldLimit: time.Second},
				func(e devices.Escrow) (devices.EscrowDecision, bool) {
					decisions <- e.Decide
					return 0, false
				})
			r.sim.DisconnectInEscrow()
			r.insert(t, 2)
			d := <-decisions
			r.eng.waitFor(t, "disconnect", func([]devices.Event) bool { return !r.sim.Connected() })
			if tc.decide {
				d <- devices.Stack
			}
			if err := r.sim.Reconnect(); err != nil {
				t.Fatal(err)
			}
			id := escrows(r.eng.snapshot())[0].NoteID
			r.eng.waitFor(t, "settled", func(evs []devices.Event) bool { return len(credits(evs))+len(returned(evs)) > 0 })
			time.Sleep(300 * time.Millisecond)
			evs := r.eng.snapshot()
			cs, rs := credits(evs), returned(evs)
			if tc.credit {
				if len(cs) != 1 || cs[0].NoteID != id || len(rs) != 0 || len(r.sim.Stacked()) != 1 {
					t.Fatalf("credits %+v returned %+v stacked %v", cs, rs, r.sim.Stacked())
				}
			} else if len(cs) != 0 || len(rs) != 1 || rs[0].NoteID != id || len(r.sim.Stacked()) != 0 {
				t.Fatalf("credits %+v returned %+v stacked %v", cs, rs, r.sim.Stacked())
			}
		})
	}
}

func TestWrongChannelTable(t *testing.T) {
	sim, err := sspsim.New(t.TempDir(), sspsim.Options{Channels: euro})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	for _, tc := range []struct {
		name     string
		values   map[int]int64
		currency string
		want     string
	}{
		{"value", map[int]int64{1: 500, 2: 2000}, "EUR", "channel 2: configured 2000, device reports 1000"},
		{"missing channel", map[int]int64{1: 500, 7: 100}, "EUR", "channel 7"},
		{"currency", map[int]int64{1: 500}, "CZK", "currency CZK"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := bill.New(bill.Config{Name: "notes", Port: sim.Path(), Values: tc.values, Currency: tc.currency, PollInterval: 10 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			out := make(chan devices.Event, 16)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err = v.Run(ctx, out)
			var ce *bill.ConfigError
			if !errors.As(err, &ce) || !containsStr(err.Error(), tc.want) {
				t.Fatalf("Run = %v, want a ConfigError naming %q", err, tc.want)
			}
			close(out)
			seen := false
			for ev := range out {
				if s, ok := ev.(devices.StatusChange); ok && s.Status == devices.StatusConfigMismatch {
					seen = true
				}
				if _, ok := ev.(devices.Credit); ok {
					t.Fatal("credit with a wrong table")
				}
			}
			if !seen {
				t.Fatal("no config mismatch status")
			}
		})
	}
}

func containsStr(s, sub string) bool {
	return len(sub) == 0 || (len(s) >= len(sub) && (s[:len(sub)] == sub || containsStr(s[1:], sub)))
}

func TestRestartWithPendingNotes(t *testing.T) {
	// The engine journaled two pending notes before a crash; the device
	// holds none: both were returned.
	r := start(t, sspsim.Options{}, bill.Config{PendingNotes: 2}, stack)
	r.eng.waitFor(t, "returned", func(evs []devices.Event) bool { return len(returned(evs)) == 1 })
	if rs := returned(r.eng.snapshot()); rs[0].NoteID != "" {
		t.Fatalf("returned %+v, want an empty NoteID", rs)
	}
	// Without pending notes nothing is returned.
	r2 := start(t, sspsim.Options{}, bill.Config{}, stack)
	r2.insert(t, 1)
	r2.eng.waitFor(t, "credit", func(evs []devices.Event) bool { return len(credits(evs)) == 1 })
	if rs := returned(r2.eng.snapshot()); len(rs) != 0 {
		t.Fatalf("returned %+v without pending notes", rs)
	}
}

func TestDeviceResetInEscrow(t *testing.T) {
	for _, enc := range []bool{false, true} {
		t.Run(fmt.Sprint("encrypted=", enc), func(t *testing.T) {
			r := start(t, sspsim.Options{Encryption: enc}, bill.Config{Encryption: enc}, nil)
			r.insert(t, 2)
			r.eng.waitFor(t, "escrow", func(evs []devices.Event) bool { return len(escrows(evs)) == 1 })
			r.sim.ResetDevice()
			r.eng.waitFor(t, "returned", func(evs []devices.Event) bool { return len(returned(evs)) == 1 })
			r.eng.waitFor(t, "reset status", func(evs []devices.Event) bool { return hasStatus(evs, devices.StatusReset) || enc })
			// Set up again after the reset: it takes notes.
			r.eng.mu.Lock()
			r.eng.decide = stack
			r.eng.mu.Unlock()
			r.insert(t, 1)
			r.eng.waitFor(t, "credit", func(evs []devices.Event) bool { return len(credits(evs)) == 1 })
		})
	}
}

func TestInhibitedByDefault(t *testing.T) {
	sim, err := sspsim.New(t.TempDir(), sspsim.Options{Channels: euro})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	v, _ := bill.New(bill.Config{Name: "notes", Port: sim.Path(), Values: map[int]int64{1: 500}, PollInterval: 10 * time.Millisecond})
	out := make(chan devices.Event, 64)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- v.Run(ctx, out) }()
	deadline := time.Now().Add(10 * time.Second)
	for sim.Commands() < 10 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if err := sim.InsertNote(1); !errors.Is(err, sspsim.ErrNotAccepting) {
		t.Fatalf("note accepted while inhibited: %v", err)
	}
	v.SetAccepting(true)
	for !sim.Enabled() && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if err := sim.InsertNote(2); !errors.Is(err, sspsim.ErrNotAccepting) {
		t.Fatalf("unconfigured channel 2 not inhibited: %v", err)
	}
	if err := sim.InsertNote(1); err != nil {
		t.Fatalf("configured channel refused: %v", err)
	}
	cancel()
	<-done
}

// TestNoteStream feeds many notes with random faults; every stacked note
// must produce exactly one Credit and no Credit may lack a stacked note.
func TestNoteStream(t *testing.T) {
	n := 200
	if testing.Short() {
		n = 40
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var mu sync.Mutex
	var r *rig
	r = start(t, sspsim.Options{HoldTimeout: 3 * time.Second}, bill.Config{HoldLimit: 2 * time.Second, Timeout: 150 * time.Millisecond},
		func(e devices.Escrow) (devices.EscrowDecision, bool) {
			mu.Lock()
			defer mu.Unlock()
			if rng.IntN(8) == 0 {
				r.sim.DropReplies(1)
			}
			dec := devices.Stack
			if rng.IntN(6) == 0 {
				dec = devices.Reject
			}
			if rng.IntN(3) == 0 {
				// A slow journal: the driver holds the note meanwhile.
				d := e.Decide
				time.AfterFunc(time.Duration(rng.IntN(80))*time.Millisecond, func() { d <- dec })
				return 0, false
			}
			return dec, true
		})
	for i := range n {
		mu.Lock()
		fault := rng.IntN(20)
		ch := 1 + rng.IntN(4)
		mu.Unlock()
		switch fault {
		case 0:
			r.sim.DisconnectInEscrow()
		case 1:
			r.sim.DropReplies(1)
		}
		r.insert(t, ch)
		if fault == 2 {
			r.eng.waitFor(t, "escrow", func(evs []devices.Event) bool { return len(escrows(evs)) > i })
			r.sim.Reject()
		}
		r.eng.waitFor(t, fmt.Sprintf("note %d settled", i), func([]devices.Event) bool {
			if !r.sim.Connected() {
				time.Sleep(20 * time.Millisecond) // the cable stays out a moment
				if err := r.sim.Reconnect(); err != nil {
					t.Error(err)
				}
			}
			return r.sim.InEscrow() == 0
		})
	}
	r.eng.waitFor(t, "all settled", func(evs []devices.Event) bool {
		return len(credits(evs))+len(returned(evs)) >= len(escrows(evs))
	})
	time.Sleep(200 * time.Millisecond)
	evs := r.eng.snapshot()
	cs := credits(evs)
	stacked := r.sim.Stacked()
	byID := map[string]int{}
	for _, c := range cs {
		if c.NoteID == "" {
			t.Errorf("credit without NoteID: %+v", c)
		}
		byID[c.NoteID]++
		if byID[c.NoteID] > 1 {
			t.Errorf("note %s credited twice", c.NoteID)
		}
	}
	var sumStacked, sumCredited int64
	for _, ch := range stacked {
		sumStacked += euro[ch-1]
	}
	for _, c := range cs {
		sumCredited += c.Amount
	}
	if len(cs) != len(stacked) || sumCredited != sumStacked {
		t.Fatalf("%d credits worth %d, %d notes stacked worth %d", len(cs), sumCredited, len(stacked), sumStacked)
	}
	for _, rn := range returned(evs) {
		if byID[rn.NoteID] > 0 {
			t.Errorf("note %s both credited and returned", rn.NoteID)
		}
	}
	t.Logf("%d notes: %d stacked, %d returned, %d escrows", n, len(stacked), len(returned(evs)), len(escrows(evs)))
}

// A kiosk that dies after the driver handed over a credit but before the
// engine journaled it must not lose the note: the driver acknowledges a
// credit to the device (EVENT_ACK) only once the engine acks it, so the
// device reports it again to the next start, which books the pending note.
func TestCreditNotAcknowledgedBeforeJournaled(t *testing.T) {
	// POLL_WITH_ACK needs eSSP (ITL's table): this is an encrypted device.
	sim, err := sspsim.New(t.TempDir(), sspsim.Options{Channels: euro, Encryption: true})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	newValidator := func(pending int) *bill.Validator {
		v, err := bill.New(bill.Config{Name: "notes", Port: sim.Path(), Values: euroValues(), Currency: "EUR",
			PollInterval: 10 * time.Millisecond, Reconnect: 50 * time.Millisecond, Timeout: 300 * time.Millisecond,
			PendingNotes: pending, Encryption: true})
		if err != nil {
			t.Fatal(err)
		}
		v.SetAccepting(true)
		return v
	}

	// First life: stack the note, take the credit, never journal it.
	v1 := newValidator(0)
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
	var first devices.Credit
wait:
	for {
		select {
		case ev := <-out1:
			switch ev := ev.(type) {
			case devices.Escrow:
				ev.Decide <- devices.Stack // journaled as pending, as the engine does
			case devices.Credit:
				first = ev
				break wait
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no credit in the first life")
		}
	}
	if first.Ack == nil {
		t.Fatal("the credit carries no Ack: the driver cannot wait for the journal")
	}
	time.Sleep(100 * time.Millisecond) // several polls: none may acknowledge it
	crash()
	if err := <-done1; err != nil {
		t.Fatal(err)
	}
	if got := sim.Stacked(); len(got) != 1 || got[0] != 2 {
		t.Fatalf("stacked %v, want the one note on channel 2", got)
	}

	// Second life: the journal holds the note as pending; the device must
	// report its credit again, and the driver hands it over once.
	v2 := newValidator(1)
	out2 := make(chan devices.Event, 16)
	ctx2, stop := context.WithCancel(context.Background())
	defer stop()
	done2 := make(chan error, 1)
	go func() { done2 <- v2.Run(ctx2, out2) }()
	var credits []devices.Credit
	timeout := time.After(10 * time.Second)
	for len(credits) == 0 {
		select {
		case ev := <-out2:
			if c, ok := ev.(devices.Credit); ok {
				c.Ack()
				credits = append(credits, c)
			}
			if r, ok := ev.(devices.NoteReturned); ok {
				t.Fatalf("the stacked note was reported returned: %+v", r)
			}
		case <-timeout:
			t.Fatal("the device did not report the unacknowledged credit again")
		}
	}
	if c := credits[0]; c.Key != "2" || c.NoteID != "" || c.Amount != euroValues()[2] {
		t.Fatalf("credit after restart %+v", c)
	}
	// No second credit follows.
	time.Sleep(150 * time.Millisecond)
	for len(out2) > 0 {
		if c, ok := (<-out2).(devices.Credit); ok {
			t.Fatalf("credited twice: %+v", c)
		}
	}
	stop()
	<-done2
}
