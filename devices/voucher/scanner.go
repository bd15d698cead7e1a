// Package voucher owns the serial barcode scanner that reads MyQ voucher
// codes: one line per code, framed by the card package's line reader (same
// framing, pattern and reconnection), reported as Scan events.
package voucher

import (
	"context"
	"errors"
	"log/slog"

	"github.com/printroom/voucherkiosk/devices"
	"github.com/printroom/voucherkiosk/devices/card"
)

// Scan is a code read by the scanner. Never log Code whole
// (journal.MaskVoucher keeps its last four characters).
type Scan struct {
	Device string
	Code   string
}

func (s Scan) DeviceName() string { return s.Device }

// Config describes a scanner.
type Config struct {
	Name    string
	Port    string
	Baud    int    // 0: 9600
	Pattern string // optional regex; its one group is the code
	Open    devices.OpenFunc
	Log     *slog.Logger
}

// Scanner is a serial voucher scanner.
type Scanner struct {
	name string
	r    *card.Reader
}

var _ devices.Device = (*Scanner)(nil)

// NewScanner checks the config.
func NewScanner(cfg Config) (*Scanner, error) {
	if cfg.Name == "" {
		return nil, errors.New("voucher scanner: name is empty")
	}
	r, err := card.NewReader(card.Config{Name: cfg.Name, Port: cfg.Port, Baud: cfg.Baud, Format: string(card.FormatLine),
		Pattern: cfg.Pattern, Open: cfg.Open, Log: cfg.Log})
	if err != nil {
		return nil, err
	}
	return &Scanner{name: cfg.Name, r: r}, nil
}

// Name is the configured name.
func (s *Scanner) Name() string { return s.name }

// Run reads codes until ctx ends: the line reader's reads become Scans, its
// status changes pass through.
func (s *Scanner) Run(ctx context.Context, out chan<- devices.Event) error {
	in := make(chan devices.Event)
	done := make(chan error, 1)
	go func() { done <- s.r.Run(ctx, in) }()
	for {
		select {
		case err := <-done:
			return err
		case ev := <-in:
			if c, ok := ev.(devices.CardRead); ok {
				ev = Scan{Device: s.name, Code: c.Number}
			}
			select {
			case out <- ev:
			case <-ctx.Done():
				// the reader ends too: wait for it
			}
		}
	}
}
