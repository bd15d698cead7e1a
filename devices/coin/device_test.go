package coin_test

import (
	"bytes"
	"context"
	"errors"
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

// startPulse runs a pulse driver on a bridge simulator. A coin is one write
// and each coin's event is awaited before the next, so only the pty's own
// delivery of one write (far below the gap) is timing.
func startPulse(t *testing.T, enc coin.Encoding) (*devsim.PulseBridge, *harness) {
	t.Helper()
	sim, err := devsim.NewPulseBridge(t.TempDir(), 20*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	p, err := coin.NewPulse(coin.PulseConfig{Name: "coins", Port: sim.Path(), Encoding: enc, Gap: 500 * time.Millisecond, Values: pulseValues})
	if err != nil {
		t.Fatal(err)
	}
	if p.CanInhibit() {
		t.Fatal("a pulse acceptor cannot inhibit")
	}
	h := run(t, p)
	waitFor(t, "connected", func() bool { return len(h.statuses(devices.StatusConnected)) == 1 })
	return sim, h
}

func (h *harness) coins() int { return len(h.credits()) + len(h.unrecognised()) }

// Every encoding public bridge sketches use, with the reset banner the board
// prints as the port opens: the banner is logged, never counted (before,
// it was booked as unrecognised cash at every reconnect).
func TestPulseEncodingsOverPty(t *testing.T) {
	for _, enc := range []coin.Encoding{coin.EncodingPulse, coin.EncodingCountByte, coin.EncodingCountLine} {
		t.Run(string(enc), func(t *testing.T) {
			sim, h := startPulse(t, enc)
			send := map[coin.Encoding]func(int) error{
				coin.EncodingPulse: sim.Train, coin.EncodingCountByte: sim.CountByte, coin.EncodingCountLine: sim.CountLine,
			}[enc]
			if err := sim.Banner("Coin bridge v1.2 ready"); err != nil {
				t.Fatal(err)
			}
			for i, n := range []int{5, 1, 7, 10} {
				if err := send(n); err != nil {
					t.Fatal(err)
				}
				waitFor(t, fmt.Sprintf("coin %d", i+1), func() bool { return h.coins() == i+1 })
			}
			cs := h.credits()
			if len(cs) != 3 || cs[0].Key != "5" || cs[1].Key != "1" || cs[2].Key != "10" || sum(cs) != 160 {
				t.Fatalf("credits %+v", cs)
			}
			if u := h.unrecognised(); len(u) != 1 || u[0] != "7 pulses" {
				t.Fatalf("unrecognised %v: the banner must not count", u)
			}
		})
	}
}

// scriptPort is a serial port the test drives chunk by chunk: each Read
// announces itself on entered (so the test knows the driver handled the
// previous chunk) and returns the next chunk; a nil chunk is a read timeout.
type scriptPort struct {
	chunks  chan []byte
	entered chan struct{}
	closed  chan struct{}
	once    sync.Once
}

func newScriptPort() *scriptPort {
	return &scriptPort{chunks: make(chan []byte), entered: make(chan struct{}, 100), closed: make(chan struct{})}
}

func (p *scriptPort) Read(b []byte) (int, error) {
	p.entered <- struct{}{}
	select {
	case c := <-p.chunks:
		return copy(b, c), nil
	case <-p.closed:
		return 0, errors.New("port closed")
	}
}
func (p *scriptPort) Write(b []byte) (int, error)        { return len(b), nil }
func (p *scriptPort) Close() error                       { p.once.Do(func() { close(p.closed) }); return nil }
func (p *scriptPort) SetReadTimeout(time.Duration) error { return nil }
func (p *scriptPort) ResetInputBuffer() error            { return nil }

// startScripted runs a pulse driver whose first open gets port; later opens
// fail (the cable stays out).
func startScripted(t *testing.T, port *scriptPort) (context.CancelFunc, chan devices.Event, chan error) {
	t.Helper()
	opened := false
	p, err := coin.NewPulse(coin.PulseConfig{Name: "coins", Port: "/dev/scripted", Gap: time.Hour, Values: pulseValues,
		Open: func(string, devices.Mode) (devices.Port, error) {
			if opened {
				return nil, errors.New("unplugged")
			}
			opened = true
			return port, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	out := make(chan devices.Event, 16)
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx, out) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	<-port.entered // idle, waiting for the first pulse
	return cancel, out, done
}

func nextCredit(t *testing.T, out chan devices.Event) devices.Credit {
	t.Helper()
	for ev := range out {
		if c, ok := ev.(devices.Credit); ok {
			return c
		}
	}
	t.Fatal("no credit")
	return devices.Credit{}
}

// A cable pulled in the middle of a train must not drop the pulses already
// counted: that money is in the box.
func TestPulseTrainCutByDisconnect(t *testing.T) {
	port := newScriptPort()
	_, out, _ := startScripted(t, port)
	port.chunks <- []byte{0x55, 0x55}
	<-port.entered // the driver counted them and waits for more
	port.Close()
	if c := nextCredit(t, out); c.Key != "2" || c.Amount != 20 {
		t.Fatalf("credit %+v", c)
	}
}

// Stopping the kiosk in the middle of a pulse train finishes the train (up
// to the gap's silence) and hands the coin over before Run returns (issue
// 11 item 11). Before, the train was cut and the coin could be dropped.
func TestPulseStopFinishesTrain(t *testing.T) {
	port := newScriptPort()
	cancel, out, done := startScripted(t, port)
	port.chunks <- []byte{0x55, 0x55}
	<-port.entered
	cancel() // SIGTERM in the middle of the train
	port.chunks <- []byte{0x55, 0x55, 0x55}
	<-port.entered
	port.chunks <- nil // the gap's silence
	if c := nextCredit(t, out); c.Key != "5" || c.Amount != 50 {
		t.Fatalf("credit %+v, want the whole 5-pulse coin", c)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	done <- nil // for the cleanup
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

// The reader goes on reading while the engine is busy (issue 11 item 13): a
// stalled consumer cannot hold the reader while the next coins' pulses pile
// up in the port and merge. Here nobody reads the events until both coins
// are read; each is still its own coin.
func TestPulseReaderNotHeldByBusyEngine(t *testing.T) {
	port := newScriptPort()
	opened := false
	p, err := coin.NewPulse(coin.PulseConfig{Name: "coins", Port: "/dev/scripted", Gap: time.Hour, Values: pulseValues,
		Open: func(string, devices.Mode) (devices.Port, error) {
			if opened {
				return nil, errors.New("unplugged")
			}
			opened = true
			return port, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	out := make(chan devices.Event) // unbuffered, and not read yet: a busy engine
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx, out) }()
	if s, ok := (<-out).(devices.StatusChange); !ok || s.Status != devices.StatusConnected {
		t.Fatalf("first event %v", s)
	}
	<-port.entered
	for _, pulses := range []int{2, 5} {
		port.chunks <- bytes.Repeat([]byte{0x55}, pulses)
		<-port.entered
		port.chunks <- nil // the gap: the coin ends
		<-port.entered     // the reader is back at the port, not waiting for the engine
	}
	var keys []string
	for len(keys) < 2 {
		if c, ok := (<-out).(devices.Credit); ok {
			keys = append(keys, c.Key)
		}
	}
	if keys[0] != "2" || keys[1] != "5" {
		t.Fatalf("coins %v, want 2 then 5", keys)
	}
	cancel()
	go func() {
		for range out {
		}
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	close(out)
}
