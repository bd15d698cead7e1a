package card_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/printroom/voucherkiosk/devices"
	"github.com/printroom/voucherkiosk/devices/card"
	"github.com/printroom/voucherkiosk/devices/devsim"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// harness runs a device and collects its events.
type harness struct {
	t      *testing.T
	mu     sync.Mutex
	events []devices.Event
	cancel context.CancelFunc
	done   chan error
}

func run(t *testing.T, d devices.Device) *harness {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	h := &harness{t: t, cancel: cancel, done: make(chan error, 1)}
	out := make(chan devices.Event)
	go func() { h.done <- d.Run(ctx, out); close(out) }()
	go func() {
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
}

func (h *harness) cards() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, ev := range h.events {
		if c, ok := ev.(devices.CardRead); ok {
			out = append(out, c.Number)
		}
	}
	return out
}

func (h *harness) count(s devices.Status) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, ev := range h.events {
		if c, ok := ev.(devices.StatusChange); ok && c.Status == s {
			n++
		}
	}
	return n
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// fakeClock advances a lot on every reading, so the 1.5 s repeat window
// can be crossed without sleeping, while frames of one tap (read within a
// few calls) stay inside it when step is small.
type fakeClock struct {
	mu   sync.Mutex
	now  time.Time
	step time.Duration
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(c.step)
	return c.now
}

func TestRDM6300OverPty(t *testing.T) {
	sim, err := devsim.NewRDM6300(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	chain, _ := card.ParseChain("right(8)|hex2dec|lpad(10,0)")
	var logs strings.Builder
	r, err := card.NewReader(card.Config{Name: "card", Port: sim.Path(), Format: "rdm6300", Transform: chain,
		Log: newLogger(&logs)})
	if err != nil {
		t.Fatal(err)
	}
	h := run(t, r)
	waitFor(t, "connected", func() bool { return h.count(devices.StatusConnected) == 1 })

	// One tap repeats the frame: one read.
	if err := sim.TapCard("100086F444"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "card", func() bool { return len(h.cards()) == 1 })
	if got := h.cards()[0]; got != "0008844356" {
		t.Fatalf("card = %q, want 0008844356", got)
	}
	// A different card at once is a new read.
	sim.TapCard("0102030405")
	waitFor(t, "second card", func() bool { return len(h.cards()) == 2 })

	// Garbage is counted, never read as a card, and does not stop the next.
	sim.Garbage([]byte("\x02ZZZZ\xff\x00\x0212345\x03"))
	waitFor(t, "bad frames", func() bool { return h.count(devices.StatusBadFrames) >= 1 })
	sim.TapCard("100086F444")
	waitFor(t, "third card", func() bool { return len(h.cards()) == 3 })
	time.Sleep(100 * time.Millisecond)
	if n := len(h.cards()); n != 3 {
		t.Fatalf("%d cards, want 3: %v", n, h.cards())
	}
	h.stop()
	if strings.Contains(logs.String(), "0008844356") || strings.Contains(logs.String(), "100086F444") {
		t.Errorf("logs show a whole card number:\n%s", logs.String())
	}
}

func TestRDM6300SameCardTwiceAfterWindow(t *testing.T) {
	sim, err := devsim.NewRDM6300("")
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	clk := &fakeClock{now: time.Unix(1e9, 0), step: 10 * time.Millisecond}
	r, _ := card.NewReader(card.Config{Name: "card", Port: sim.Path(), Format: "rdm6300", Now: clk.Now})
	h := run(t, r)
	waitFor(t, "connected", func() bool { return h.count(devices.StatusConnected) == 1 })
	sim.TapCard("100086F444")
	waitFor(t, "card", func() bool { return len(h.cards()) == 1 })
	clk.mu.Lock()
	clk.now = clk.now.Add(2 * time.Second) // the card left and came back
	clk.mu.Unlock()
	sim.TapCard("100086F444")
	waitFor(t, "card again", func() bool { return len(h.cards()) == 2 })
	if got := h.cards(); got[0] != "100086F444" || got[1] != "100086F444" {
		t.Fatalf("cards %v", got)
	}
}

func TestLineReaderOverPty(t *testing.T) {
	sim, err := devsim.NewLineReader("")
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	r, err := card.NewReader(card.Config{Name: "card", Port: sim.Path(), Format: "line", Pattern: `^ID:(\d+)$`})
	if err != nil {
		t.Fatal(err)
	}
	h := run(t, r)
	waitFor(t, "connected", func() bool { return h.count(devices.StatusConnected) == 1 })
	sim.TapCard("ID:4711")
	sim.TapCard("nonsense")
	sim.Garbage([]byte(strings.Repeat("7", 100) + "\r\n"))
	sim.TapCard("ID:4712")
	waitFor(t, "cards", func() bool { return len(h.cards()) == 2 })
	waitFor(t, "bad frames", func() bool { return h.count(devices.StatusBadFrames) >= 1 })
	if got := strings.Join(h.cards(), ","); got != "4711,4712" {
		t.Fatalf("cards %s", got)
	}
}

func TestReaderReconnects(t *testing.T) {
	sim, err := devsim.NewRDM6300("")
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	r, _ := card.NewReader(card.Config{Name: "card", Port: sim.Path(), Format: "rdm6300"})
	h := run(t, r)
	waitFor(t, "connected", func() bool { return h.count(devices.StatusConnected) == 1 })
	sim.TapCard("0102030405")
	waitFor(t, "card", func() bool { return len(h.cards()) == 1 })

	sim.Disconnect()
	waitFor(t, "disconnected", func() bool { return h.count(devices.StatusDisconnected) >= 1 })
	if err := sim.Reconnect(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "reconnected", func() bool { return h.count(devices.StatusConnected) == 2 })
	sim.TapCard("0A0B0C0D0E")
	waitFor(t, "card after reconnect", func() bool { return len(h.cards()) == 2 })
	if got := h.cards()[1]; got != "0A0B0C0D0E" {
		t.Fatalf("card after reconnect = %q", got)
	}
}

func TestNewReaderRejectsBadConfig(t *testing.T) {
	for _, c := range []card.Config{
		{Port: "/dev/x", Format: "line"},
		{Name: "c", Format: "line"},
		{Name: "c", Port: "/dev/x", Format: "wiegand"},
		{Name: "c", Port: "/dev/x", Format: "line", Pattern: "("},
		{Name: "c", Port: "/dev/x", Format: "line", Pattern: `\d+`},
		{Name: "c", Port: "/dev/x", Format: "rdm6300", Pattern: `(\d+)`},
	} {
		if _, err := card.NewReader(c); err == nil {
			t.Errorf("NewReader(%+v) accepted a bad config", c)
		}
	}
}

// An ID-12LA and an ID-20LA (CR LF before ETX) over a real pty, each.
func TestIDInnovationsReadersOverPty(t *testing.T) {
	for _, model := range []string{"ID-12LA", "ID-20LA"} {
		t.Run(model, func(t *testing.T) {
			sim, err := devsim.NewRDM6300(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			defer sim.Close()
			sim.CRLF = true
			chain, _ := card.ParseChain("right(8)|hex2dec|lpad(10,0)")
			r, err := card.NewReader(card.Config{Name: "card", Port: sim.Path(), Format: "rdm6300", Transform: chain})
			if err != nil {
				t.Fatal(err)
			}
			h := run(t, r)
			waitFor(t, "connected", func() bool { return h.count(devices.StatusConnected) == 1 })
			if err := sim.TapCard("7C0055F8C4"); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "card", func() bool { return len(h.cards()) == 1 })
			if got := h.cards()[0]; got != "0005634244" {
				t.Fatalf("card = %q, want 0005634244", got)
			}
			if n := h.count(devices.StatusBadFrames); n != 0 {
				t.Fatalf("%d bad-frame reports for good frames", n)
			}
		})
	}
}

// settableClock is a clock the test moves by hand.
type settableClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *settableClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *settableClock) add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// Random bytes on the line give one summary line (and one status) per
// minute, with counts, not one per bad read (issue 14: 33,611 lines in
// 20 s). The minute is an injected clock; a card read after the noise marks
// that the driver has handled all of it.
func TestNoiseSummarisedPerMinute(t *testing.T) {
	sim, err := devsim.NewRDM6300(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	sim.Repeats = 1
	clk := &settableClock{now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	logs := &syncBuffer{}
	r, err := card.NewReader(card.Config{Name: "card", Port: sim.Path(), Format: "rdm6300", Log: newLogger(logs), Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	h := run(t, r)
	waitFor(t, "connected", func() bool { return h.count(devices.StatusConnected) == 1 })
	noise := func(cardID string, want int) {
		t.Helper()
		for i := range 300 {
			sim.Garbage([]byte{0xff, byte(i), 0x02, 'Z', 0x03, 0x00})
		}
		sim.TapCard(cardID)
		waitFor(t, "the card after the noise", func() bool { return len(h.cards()) == want })
	}
	lines := func() int { return strings.Count(logs.String(), "serial line noise") }
	noise("0102030405", 1)
	if lines() != 1 || h.count(devices.StatusBadFrames) != 1 {
		t.Fatalf("after a burst: %d noise lines and %d bad-frame statuses, want 1 and 1", lines(), h.count(devices.StatusBadFrames))
	}
	noise("0102030406", 2)
	if lines() != 1 {
		t.Fatalf("%d noise lines within a minute, want 1", lines())
	}
	clk.add(time.Minute)
	noise("0102030407", 3)
	if lines() != 2 || h.count(devices.StatusBadFrames) != 2 {
		t.Fatalf("after a minute: %d lines, %d statuses; want 2 and 2", lines(), h.count(devices.StatusBadFrames))
	}
	if !strings.Contains(logs.String(), `"bad frames since start"=`) {
		t.Errorf("the summary has no counts:\n%s", logs.String())
	}
}

// syncBuffer is a log sink the test may read while the driver writes.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
