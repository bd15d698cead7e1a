package devices

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"syscall"
	"time"

	"go.bug.st/serial"
)

// Port is the part of a serial port the drivers use. go.bug.st/serial ports
// satisfy it, and so do ptys in tests.
type Port interface {
	io.ReadWriteCloser
	// SetReadTimeout bounds each Read; a Read that times out returns (0, nil).
	// serial.NoTimeout (-1) blocks until data or Close.
	SetReadTimeout(t time.Duration) error
	ResetInputBuffer() error
}

var _ Port = serial.Port(nil)

// Parity and StopBits name the line settings a device needs.
type Parity int

const (
	NoParity Parity = iota
	EvenParity
	OddParity
)

type StopBits int

const (
	OneStopBit StopBits = iota
	TwoStopBits
)

// Mode is a serial line setting: 9600 8N1 is Mode{Baud: 9600}.
type Mode struct {
	Baud     int
	DataBits int // 0 means 8
	Parity   Parity
	StopBits StopBits
}

func (m Mode) String() string {
	db := m.DataBits
	if db == 0 {
		db = 8
	}
	p := "N"
	switch m.Parity {
	case EvenParity:
		p = "E"
	case OddParity:
		p = "O"
	}
	sb := 1
	if m.StopBits == TwoStopBits {
		sb = 2
	}
	return fmt.Sprintf("%d %d%s%d", m.Baud, db, p, sb)
}

// OpenFunc opens a serial port. OpenSerial is the real one.
type OpenFunc func(path string, m Mode) (Port, error)

// OpenSerial opens path exclusively with the given line settings. A missing
// path gives an error matching fs.ErrNotExist.
func OpenSerial(path string, m Mode) (Port, error) {
	sm := &serial.Mode{BaudRate: m.Baud, DataBits: m.DataBits}
	if sm.DataBits == 0 {
		sm.DataBits = 8
	}
	switch m.Parity {
	case EvenParity:
		sm.Parity = serial.EvenParity
	case OddParity:
		sm.Parity = serial.OddParity
	default:
		sm.Parity = serial.NoParity
	}
	if m.StopBits == TwoStopBits {
		sm.StopBits = serial.TwoStopBits
	} else {
		sm.StopBits = serial.OneStopBit
	}
	p, err := serial.Open(path, sm)
	if err != nil {
		return nil, fmt.Errorf("open %s (%s): %w", path, m, err)
	}
	return p, nil
}

// KeepConfig says how Keep opens and reopens a port.
type KeepConfig struct {
	Device string // the device's configured name, for status events
	Path   string
	Mode   Mode
	Open   OpenFunc      // nil means OpenSerial
	Retry  time.Duration // between attempts to reopen; 0 means 1 s
	Log    *slog.Logger  // nil means discard
	// Status receives Connected and Disconnected; it may be nil.
	Status func(StatusChange)
}

// Keep opens the port and runs session on it; when the port vanishes or the
// session fails it reports Disconnected, closes the port, and reopens it every
// Retry until it works again, then reports Connected and runs session anew.
// Keep returns nil when ctx ends. Closing the port is how a session blocked in
// Read is woken when ctx ends: sessions block on the port, they never poll.
func Keep(ctx context.Context, cfg KeepConfig, session func(ctx context.Context, p Port) error) error {
	open := cfg.Open
	if open == nil {
		open = OpenSerial
	}
	retry := cfg.Retry
	if retry <= 0 {
		retry = time.Second
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	report := func(s Status, detail string) {
		if cfg.Status != nil {
			cfg.Status(StatusChange{Device: cfg.Device, Status: s, Detail: detail, At: time.Now()})
		}
	}
	connected, first := false, true
	lastErr := ""
	for {
		if ctx.Err() != nil {
			return nil
		}
		p, err := open(cfg.Path, cfg.Mode)
		wasFirst := first
		first = false
		if err != nil {
			if msg := err.Error(); msg != lastErr {
				// Log each new reason once: a port unplugged for a week must
				// not write a line a second.
				log.Warn("serial port unavailable", "device", cfg.Device, "port", cfg.Path, "err", err)
				lastErr = msg
			}
			if connected || wasFirst {
				report(StatusDisconnected, err.Error())
			}
			connected = false
		} else {
			lastErr = ""
			connected = true
			log.Info("serial port open", "device", cfg.Device, "port", cfg.Path, "mode", cfg.Mode.String())
			report(StatusConnected, cfg.Path)
			err = runSession(ctx, p, session)
			if ctx.Err() != nil {
				return nil
			}
			log.Warn("serial session ended", "device", cfg.Device, "port", cfg.Path, "err", err)
			report(StatusDisconnected, errString(err))
			connected = false
		}
		t := time.NewTimer(retry)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

func runSession(ctx context.Context, p Port, session func(ctx context.Context, p Port) error) error {
	sctx, cancel := context.WithCancel(ctx)
	var once sync.Once
	closePort := func() { once.Do(func() { p.Close() }) }
	done := make(chan struct{})
	go func() {
		defer close(done)
		<-sctx.Done()
		closePort()
	}()
	err := session(sctx, p)
	cancel()
	<-done
	closePort()
	return err
}

func errString(err error) string {
	if err == nil {
		return "session ended"
	}
	return err.Error()
}

// IsPortGone reports whether err means the port vanished (USB unplugged, pty
// closed) rather than a protocol problem.
func IsPortGone(err error) bool {
	var pe *serial.PortError
	if errors.As(err, &pe) {
		return pe.Code() == serial.PortClosed
	}
	// A pty whose master went away (and some USB-serial drivers on unplug)
	// fail reads with EIO or ENXIO rather than a PortClosed.
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrClosedPipe) ||
		errors.Is(err, syscall.EIO) || errors.Is(err, syscall.ENXIO)
}
