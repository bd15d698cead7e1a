// Package coin owns the kiosk's coin acceptors: pulse acceptors behind a
// pulse-to-serial bridge (one byte per pulse) and ccTalk acceptors, turning
// what they report into credits, unrecognised cash and status changes.
// See docs/ARCHITECTURE.md for its place among the packages.
package coin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/printroom/voucherkiosk/devices"
)

// PulseConfig describes a pulse acceptor behind a serial bridge.
type PulseConfig struct {
	Name   string
	Port   string
	Baud   int           // 0 means 9600
	Gap    time.Duration // silence that ends a coin; 0 means 150 ms
	Values map[int]int64 // pulse count -> minor units
	Open   devices.OpenFunc
	Log    *slog.Logger
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

// Run counts pulse trains until ctx ends.
func (p *Pulse) Run(ctx context.Context, out chan<- devices.Event) error {
	send := func(ev devices.Event) bool {
		select {
		case out <- ev:
			return true
		case <-ctx.Done():
			return false
		}
	}
	return devices.Keep(ctx, devices.KeepConfig{
		Device: p.cfg.Name, Path: p.cfg.Port, Mode: devices.Mode{Baud: p.cfg.Baud},
		Open: p.cfg.Open, Log: p.log,
		Status: func(s devices.StatusChange) { send(s) },
	}, func(ctx context.Context, port devices.Port) error {
		count := 0
		// finish turns the pulses so far into a coin. It runs on every way
		// out of the session, so a train cut by an unplugged cable still
		// reaches the journal.
		finish := func() {
			if count == 0 {
				return
			}
			ev := p.coin(count)
			n := count
			count = 0
			if !send(ev) {
				p.log.Error("coin not reported: kiosk stopping", "device", p.cfg.Name, "pulses", n)
			}
		}
		defer finish()
		// Block while idle (no wake-ups); during a train, the gap is the
		// read timeout.
		timeout := time.Duration(-1)
		if err := port.SetReadTimeout(timeout); err != nil {
			return fmt.Errorf("pulse acceptor %s: %w", p.cfg.Name, err)
		}
		buf := make([]byte, 64)
		for {
			n, err := port.Read(buf)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return fmt.Errorf("pulse acceptor %s: read: %w", p.cfg.Name, err)
			}
			count += n
			want := time.Duration(-1)
			if n == 0 {
				finish()
			} else {
				want = p.cfg.Gap
			}
			if want != timeout {
				if err := port.SetReadTimeout(want); err != nil {
					return fmt.Errorf("pulse acceptor %s: %w", p.cfg.Name, err)
				}
				timeout = want
			}
		}
	})
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
