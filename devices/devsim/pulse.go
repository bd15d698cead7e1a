package devsim

import (
	"bytes"
	"strconv"
	"sync"
	"time"
)

// PulseBridge simulates a pulse coin acceptor behind a pulse-to-serial
// bridge: one byte per pulse (InsertCoin, Train), or the other encodings
// public bridge sketches use (CountByte, CountLine, Banner).
type PulseBridge struct {
	*port
	width time.Duration

	mu      sync.Mutex // one coin at a time, like a coin chute
	coinGap time.Duration
}

// NewPulseBridge starts a bridge linked as dir/pulse. A pulse is pulseWidth
// long followed by the same pause, so pulses are 2*pulseWidth apart.
func NewPulseBridge(dir string, pulseWidth time.Duration) (*PulseBridge, error) {
	if pulseWidth <= 0 {
		pulseWidth = 30 * time.Millisecond
	}
	p, err := newPort(dir, "pulse", nil)
	if err != nil {
		return nil, err
	}
	if err := p.start(); err != nil {
		return nil, err
	}
	return &PulseBridge{port: p, width: pulseWidth, coinGap: 4 * pulseWidth}, nil
}

// SetCoinGap sets the silence after each coin; a driver's gap must lie
// between the pulse period (2*pulseWidth) and this.
func (b *PulseBridge) SetCoinGap(d time.Duration) {
	b.mu.Lock()
	b.coinGap = d
	b.mu.Unlock()
}

// InsertCoin sends a train of pulses and then stays silent for the coin gap.
// It returns when the next coin may follow.
func (b *PulseBridge) InsertCoin(pulses int) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	// Absolute deadlines, so one late wake-up does not stretch the train.
	start := time.Now()
	period := 2 * b.width
	for i := 0; i < pulses; i++ {
		if d := time.Until(start.Add(time.Duration(i) * period)); d > 0 {
			time.Sleep(d)
		}
		if err := b.write([]byte{0x55}); err != nil {
			return err
		}
	}
	time.Sleep(b.coinGap)
	return nil
}

// Train sends a whole coin's pulses in one write: one byte each. Tests that
// must not depend on the scheduler use it and wait for the coin's event
// before the next coin.
func (b *PulseBridge) Train(pulses int) error {
	return b.write(bytes.Repeat([]byte{0x55}, pulses))
}

// CountByte sends one coin as a count_byte bridge does: a byte whose value
// is the pulse count.
func (b *PulseBridge) CountByte(pulses int) error { return b.write([]byte{byte(pulses)}) }

// CountLine sends one coin as a count_line bridge does: the count and CR LF.
func (b *PulseBridge) CountLine(pulses int) error {
	return b.write([]byte(strconv.Itoa(pulses) + "\r\n"))
}

// Banner sends what an Arduino bridge prints when it resets as the port
// opens.
func (b *PulseBridge) Banner(text string) error { return b.write([]byte(text + "\r\n")) }
