package coin_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/printroom/voucherkiosk/devices"
	"github.com/printroom/voucherkiosk/devices/coin"
	"github.com/printroom/voucherkiosk/devices/devsim"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type harness struct {
	t      testing.TB
	mu     sync.Mutex
	events []devices.Event
	cancel context.CancelFunc
	done   chan error
	drain  chan struct{}
}

func run(t testing.TB, d devices.Device) *harness {
	ctx, cancel := context.WithCancel(context.Background())
	h := &harness{t: t, cancel: cancel, done: make(chan error, 1), drain: make(chan struct{})}
	out := make(chan devices.Event)
	go func() { h.done <- d.Run(ctx, out); close(out) }()
	go func() {
		defer close(h.drain)
		for ev := range out {
			h.mu.Lock()
			h.events = append(h.events, ev)
			h.mu.Unlock()
		}
	}()
	t.Cleanup(h.stop)
	return h
}

func (h *harness) stop() {
	if h.cancel == nil {
		return
	}
	h.cancel()
	h.cancel = nil
	select {
	case err := <-h.done:
		if err != nil {
			h.t.Errorf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		h.t.Fatal("Run did not return after cancel")
	}
	<-h.drain
}

func (h *harness) credits() []devices.Credit {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []devices.Credit
	for _, ev := range h.events {
		if c, ok := ev.(devices.Credit); ok {
			out = append(out, c)
		}
	}
	return out
}

func (h *harness) unrecognised() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, ev := range h.events {
		if c, ok := ev.(devices.UnrecognisedCash); ok {
			out = append(out, c.What)
		}
	}
	return out
}

func (h *harness) unrecognisedEvents() []devices.UnrecognisedCash {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []devices.UnrecognisedCash
	for _, ev := range h.events {
		if c, ok := ev.(devices.UnrecognisedCash); ok {
			out = append(out, c)
		}
	}
	return out
}

func (h *harness) statuses(s devices.Status) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, ev := range h.events {
		if c, ok := ev.(devices.StatusChange); ok && c.Status == s {
			out = append(out, c.Detail)
		}
	}
	return out
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func sum(cs []devices.Credit) (total int64) {
	for _, c := range cs {
		total += c.Amount
	}
	return total
}

var pulseValues = map[int]int64{1: 10, 2: 20, 5: 50, 10: 100}

func TestPulseOverPty(t *testing.T) {
	sim, err := devsim.NewPulseBridge(t.TempDir(), 20*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	sim.SetCoinGap(300 * time.Millisecond)
	p, err := coin.NewPulse(coin.PulseConfig{Name: "coins", Port: sim.Path(), Gap: 120 * time.Millisecond, Values: pulseValues})
	if err != nil {
		t.Fatal(err)
	}
	if p.CanInhibit() {
		t.Fatal("a pulse acceptor cannot inhibit")
	}
	h := run(t, p)
	waitFor(t, "connected", func() bool { return len(h.statuses(devices.StatusConnected)) == 1 })
	for _, n := range []int{5, 1, 7, 10} {
		sim.InsertCoin(n)
	}
	waitFor(t, "coins", func() bool { return len(h.credits())+len(h.unrecognised()) == 4 })
	cs := h.credits()
	if len(cs) != 3 || cs[0].Key != "5" || cs[1].Key != "1" || cs[2].Key != "10" || sum(cs) != 160 {
		t.Fatalf("credits %+v", cs)
	}
	if u := h.unrecognised(); len(u) != 1 || u[0] != "7 pulses" {
		t.Fatalf("unrecognised %v", u)
	}
}

// A cable pulled in the middle of a train must not drop the pulses already
// counted: that money is in the box.
func TestPulseTrainCutByDisconnect(t *testing.T) {
	sim, err := devsim.NewPulseBridge("", 20*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	p, _ := coin.NewPulse(coin.PulseConfig{Name: "coins", Port: sim.Path(), Gap: 5 * time.Second, Values: pulseValues})
	h := run(t, p)
	waitFor(t, "connected", func() bool { return len(h.statuses(devices.StatusConnected)) == 1 })
	sim.Garbage([]byte{1, 2})
	time.Sleep(200 * time.Millisecond) // the bytes reach the driver; the gap (5 s) has not passed
	sim.Disconnect()
	waitFor(t, "coin from the cut train", func() bool { return len(h.credits()) == 1 })
	if c := h.credits()[0]; c.Key != "2" || c.Amount != 20 {
		t.Fatalf("credit %+v", c)
	}
	if err := sim.Reconnect(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "reconnected", func() bool { return len(h.statuses(devices.StatusConnected)) == 2 })
}

// Throughput: 30 ms pulses, a gap just above the pulse period.
func TestPulseThroughput(t *testing.T) {
	sim, err := devsim.NewPulseBridge("", 30*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	// Pulses arrive every 60 ms; the driver ends a coin after 100 ms of
	// silence; the bridge leaves 200 ms between coins.
	sim.SetCoinGap(200 * time.Millisecond)
	p, _ := coin.NewPulse(coin.PulseConfig{Name: "coins", Port: sim.Path(), Gap: 100 * time.Millisecond, Values: pulseValues})
	h := run(t, p)
	waitFor(t, "connected", func() bool { return len(h.statuses(devices.StatusConnected)) == 1 })
	seq := []int{1, 2, 5, 10, 1, 5, 2, 10, 1, 2, 5, 1}
	var want int64
	start := time.Now()
	for _, n := range seq {
		sim.InsertCoin(n)
		want += pulseValues[n]
	}
	waitFor(t, "all coins", func() bool { return len(h.credits())+len(h.unrecognised()) >= len(seq) })
	el := time.Since(start)
	time.Sleep(300 * time.Millisecond)
	cs := h.credits()
	if len(cs) != len(seq) || sum(cs) != want || len(h.unrecognised()) != 0 {
		t.Fatalf("got %d credits summing %d and %v unrecognised; want %d summing %d", len(cs), sum(cs), h.unrecognised(), len(seq), want)
	}
	for i, c := range cs {
		if c.Key != fmt.Sprint(seq[i]) {
			t.Fatalf("coin %d key %s, want %d", i, c.Key, seq[i])
		}
	}
	t.Logf("pulse throughput: %d coins (%d pulses) in %v = %.1f coins/s", len(seq), 45, el.Round(time.Millisecond), float64(len(seq))/el.Seconds())
}

func TestNewPulseRejectsBadConfig(t *testing.T) {
	for _, c := range []coin.PulseConfig{
		{Port: "/dev/x", Values: pulseValues},
		{Name: "c", Values: pulseValues},
		{Name: "c", Port: "/dev/x"},
		{Name: "c", Port: "/dev/x", Values: map[int]int64{0: 10}},
		{Name: "c", Port: "/dev/x", Values: map[int]int64{1: -10}},
	} {
		if _, err := coin.NewPulse(c); err == nil {
			t.Errorf("NewPulse(%+v) accepted", c)
		}
	}
}
