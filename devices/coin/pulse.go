// Package coin owns the kiosk's coin acceptors: pulse acceptors behind a
// pulse-to-serial bridge (a byte per pulse, a count byte or a count line
// per coin) and ccTalk acceptors, turning
// what they report into credits, unrecognised cash and status changes.
// See docs/ARCHITECTURE.md for its place among the packages.
package coin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/printroom/voucherkiosk/devices"
)

// PulseConfig describes a pulse acceptor behind a serial bridge.
type PulseConfig struct {
	Name     string
	Port     string
	Baud     int           // 0 means 9600
	Encoding Encoding      // "" means EncodingPulse
	Gap      time.Duration // silence that ends a coin; 0 means 150 ms
	Values   map[int]int64 // pulse count -> minor units
	Open     devices.OpenFunc
	Log      *slog.Logger
}

// Pulse is a pulse coin acceptor. It cannot refuse coins.
type Pulse struct {
	cfg PulseConfig
	log *slog.Logger
}

var _ devices.Acceptor = (*Pulse)(nil)

// NewPulse checks the config.
func NewPulse(cfg PulseConfig) (*Pulse, error) {
	if cfg.Name == "" {
		return nil, errors.New("pulse acceptor: name is empty")
	}
	if cfg.Port == "" {
		return nil, fmt.Errorf("pulse acceptor %s: port is empty", cfg.Name)
	}
	if cfg.Baud == 0 {
		cfg.Baud = 9600
	}
	if cfg.Gap == 0 {
		cfg.Gap = 150 * time.Millisecond
	}
	if cfg.Encoding == "" {
		cfg.Encoding = EncodingPulse
	}
	switch cfg.Encoding {
	case EncodingPulse, EncodingCountByte, EncodingCountLine:
	default:
		return nil, fmt.Errorf("pulse acceptor %s: encoding %q: want %q, %q or %q", cfg.Name, cfg.Encoding, EncodingPulse, EncodingCountByte, EncodingCountLine)
	}
	if cfg.Gap < 0 || cfg.Baud < 0 {
		return nil, fmt.Errorf("pulse acceptor %s: gap %s and baud %d must be positive", cfg.Name, cfg.Gap, cfg.Baud)
	}
	if len(cfg.Values) == 0 {
		return nil, fmt.Errorf("pulse acceptor %s: no values configured", cfg.Name)
	}
	for k, v := range cfg.Values {
		if k < 1 || v <= 0 {
			return nil, fmt.Errorf("pulse acceptor %s: value %d pulses = %d: pulses and amount must be positive", cfg.Name, k, v)
		}
		if cfg.Encoding == EncodingCountByte && k > MaxCountByte {
			return nil, fmt.Errorf("pulse acceptor %s: %d pulses: a count_byte bridge reports 1..%d", cfg.Name, k, MaxCountByte)
		}
	}
	p := &Pulse{cfg: cfg, log: cfg.Log}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	return p, nil
}

func (p *Pulse) Name() string { return p.cfg.Name }

// CanInhibit is false: a pulse acceptor takes every coin it recognises.
func (p *Pulse) CanInhibit() bool { return false }

// SetAccepting does nothing: the hardware has no inhibit line here.
func (p *Pulse) SetAccepting(bool) {}

// finalWait bounds how long a coin read while the kiosk stops waits for the
// engine to take it.
const finalWait = 2 * time.Second

// Run reads the bridge until ctx ends. When ctx ends in the middle of a
// pulse train, the train is finished first (the line stays open until a
// gap of silence) and the coin is handed over before Run returns: that coin
// is in the box.
func (p *Pulse) Run(ctx context.Context, out chan<- devices.Event) error {
	// The reader never waits for the engine: coins go through a queue that
	// forward drains, so a busy engine cannot hold the reader while the
	// next coins' pulses pile up and merge. The queue is far larger than
	// the coins a chute passes while an engine is slow.
	q := make(chan devices.Event, 256)
	fwd := make(chan struct{})
	go func() {
		defer close(fwd)
		p.forward(ctx, q, out)
	}()
	defer func() { close(q); <-fwd }()
	send := func(ev devices.Event) bool {
		q <- ev // blocks only when 256 coins wait: slow, never dropped
		return true
	}
	// The port lives on kctx: it ends with ctx only once no train is in
	// flight (watchStop), so stopping cannot cut a coin in half.
	kctx, kcancel := context.WithCancel(context.WithoutCancel(ctx))
	defer kcancel()
	st := &stopState{}
	stopped := make(chan struct{})
	defer close(stopped)
	go st.watch(ctx, stopped, kcancel)
	return devices.Keep(kctx, devices.KeepConfig{
		Device: p.cfg.Name, Path: p.cfg.Port, Mode: devices.Mode{Baud: p.cfg.Baud},
		Open: p.cfg.Open, Log: p.log,
		Status: func(s devices.StatusChange) {
			select {
			case out <- s:
			case <-ctx.Done():
			}
		},
	}, func(sctx context.Context, port devices.Port) error {
		return p.session(port, st, kcancel, send)
	})
}

// forward hands queued coins to the engine, in order. After ctx ends it
// still tries each for finalWait: the engine drains its channel at a stop.
func (p *Pulse) forward(ctx context.Context, q <-chan devices.Event, out chan<- devices.Event) {
	for ev := range q {
		select {
		case out <- ev:
			continue
		case <-ctx.Done():
		}
		t := time.NewTimer(finalWait)
		select {
		case out <- ev:
		case <-t.C:
			p.log.Error("coin not reported: kiosk stopping", "device", p.cfg.Name, "event", fmt.Sprint(ev))
		}
		t.Stop()
	}
}

// stopState lets the session and the stop watcher agree whether a train is
// in flight when ctx ends.
type stopState struct {
	mu       sync.Mutex
	stopping bool
	busy     bool
}

// watch ends the port at once when ctx ends with the line idle; otherwise
// the session ends it after the train.
func (s *stopState) watch(ctx context.Context, stopped <-chan struct{}, end context.CancelFunc) {
	select {
	case <-stopped:
		return
	case <-ctx.Done():
	}
	s.mu.Lock()
	s.stopping = true
	busy := s.busy
	s.mu.Unlock()
	if !busy {
		end()
	}
}

func (p *Pulse) session(port devices.Port, st *stopState, end context.CancelFunc, send func(devices.Event) bool) error {
	dec := newDecoder(p.cfg.Encoding)
	deliver := func(items []bridgeItem) {
		for _, it := range items {
			if it.text != "" {
				// A banner or other talk from the bridge: never money.
				p.log.Info("bridge text, not counted", "device", p.cfg.Name, "text", it.text)
				continue
			}
			send(p.coin(it.count))
		}
	}
	// Every way out of the session (an unplugged cable, a stop) turns what
	// was read so far into its coin: that money is in the box. A session
	// that ends while the kiosk stops ends the port for good.
	defer func() {
		deliver(dec.end())
		st.mu.Lock()
		st.busy = false
		stopping := st.stopping
		st.mu.Unlock()
		if stopping {
			end()
		}
	}()
	// Block while idle (no wake-ups); with bytes pending, the gap is the
	// read timeout, so the coin ends by the line's silence.
	timeout := time.Duration(-1)
	if err := port.SetReadTimeout(timeout); err != nil {
		return fmt.Errorf("pulse acceptor %s: %w", p.cfg.Name, err)
	}
	buf := make([]byte, 64)
	for {
		n, err := port.Read(buf)
		if err != nil {
			st.mu.Lock()
			stopping := st.stopping
			st.mu.Unlock()
			if stopping {
				return nil
			}
			return fmt.Errorf("pulse acceptor %s: read: %w", p.cfg.Name, err)
		}
		items := dec.feed(buf[:n])
		if n == 0 {
			items = append(items, dec.end()...)
		}
		busy := dec.pending()
		st.mu.Lock()
		st.busy = busy
		stopping := st.stopping
		st.mu.Unlock()
		deliver(items)
		if stopping && !busy {
			end()
			return nil
		}
		want := time.Duration(-1)
		if busy {
			want = p.cfg.Gap
		}
		if want != timeout {
			if err := port.SetReadTimeout(want); err != nil {
				return fmt.Errorf("pulse acceptor %s: %w", p.cfg.Name, err)
			}
			timeout = want
		}
	}
}

// coin maps a pulse count to the event it stands for.
func (p *Pulse) coin(count int) devices.Event {
	now := time.Now()
	if v, ok := p.cfg.Values[count]; ok {
		p.log.Info("coin", "device", p.cfg.Name, "pulses", count, "amount", v)
		return devices.Credit{Device: p.cfg.Name, Amount: v, Key: strconv.Itoa(count), At: now}
	}
	what := fmt.Sprintf("%d pulses", count)
	if count == 1 {
		what = "1 pulse"
	}
	p.log.Warn("unrecognised pulse train", "device", p.cfg.Name, "pulses", count)
	return devices.UnrecognisedCash{Device: p.cfg.Name, What: what, At: now}
}
