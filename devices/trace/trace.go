// Package trace records every byte a serial device sends and receives, with
// a timestamp and what the bytes mean, into a file a technician can attach
// to a support request (`kioskctl probe --trace FILE`), and reads such a
// file back offline (`kioskctl trace decode FILE`).
//
// The file is JSON lines: a header, then one record per read or write. Card
// readers' bytes hold card numbers: they are recorded only with Reveal, and
// the meaning shows the number masked.
package trace

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/printroom/voucherkiosk/devices"
)

// Magic names the file format in its header.
const Magic = "voucherkiosk serial trace"

// Header is the first line of a trace file.
type Header struct {
	Trace    string    `json:"trace"`
	Version  int       `json:"version"`
	Protocol string    `json:"protocol"`
	Port     string    `json:"port"`
	Started  time.Time `json:"started"`
	Revealed bool      `json:"revealed,omitempty"`
}

// Direction says who sent the bytes.
type Direction string

const (
	In  Direction = "in"  // from the device
	Out Direction = "out" // from the kiosk
)

// Record is one read or write.
type Record struct {
	T    time.Time `json:"t"`
	Dir  Direction `json:"dir"`
	N    int       `json:"n"`
	Hex  string    `json:"hex,omitempty"`  // the bytes; empty for card readers without Reveal
	Note []string  `json:"note,omitempty"` // what the bytes completed, decoded
	Err  string    `json:"err,omitempty"`
}

// Options configure a Recorder.
type Options struct {
	Protocol string // rdm6300, line, pulse, cctalk, essp
	Port     string
	Reveal   bool             // record card readers' bytes and whole numbers
	Now      func() time.Time // nil means time.Now
}

// Recorder writes a trace. It is safe for the one port it wraps and the
// goroutines that use that port.
type Recorder struct {
	mu   sync.Mutex
	w    *bufio.Writer
	enc  *json.Encoder
	opts Options
	dec  map[Direction]Decoder
	err  error
}

// NewRecorder writes the header to w.
func NewRecorder(w io.Writer, opts Options) (*Recorder, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	dec, err := NewDecoders(opts.Protocol, opts.Reveal)
	if err != nil {
		return nil, err
	}
	bw := bufio.NewWriter(w)
	r := &Recorder{w: bw, enc: json.NewEncoder(bw), opts: opts, dec: dec}
	h := Header{Trace: Magic, Version: 1, Protocol: opts.Protocol, Port: opts.Port, Started: opts.Now().UTC(), Revealed: opts.Reveal && isCard(opts.Protocol)}
	if err := r.enc.Encode(h); err != nil {
		return nil, fmt.Errorf("trace: header: %w", err)
	}
	return r, r.w.Flush()
}

// Err is the first write error; recording stops at it, the device does not.
func (r *Recorder) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// Note records b as sent in dir. Errors are kept for Err: a full disk must
// not stop the probe.
func (r *Recorder) Note(dir Direction, b []byte, ioErr error) {
	if len(b) == 0 && ioErr == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return
	}
	rec := Record{T: r.opts.Now().UTC(), Dir: dir, N: len(b), Note: r.dec[dir].Feed(b)}
	if !isCard(r.opts.Protocol) || r.opts.Reveal {
		rec.Hex = hex.EncodeToString(b)
	}
	if ioErr != nil {
		rec.Err = ioErr.Error()
	}
	if err := r.enc.Encode(rec); err != nil {
		r.err = fmt.Errorf("trace: %w", err)
		return
	}
	if err := r.w.Flush(); err != nil {
		r.err = fmt.Errorf("trace: %w", err)
	}
}

// Open wraps open so every port it returns is recorded.
func (r *Recorder) Open(open devices.OpenFunc) devices.OpenFunc {
	if open == nil {
		open = devices.OpenSerial
	}
	return func(path string, m devices.Mode) (devices.Port, error) {
		p, err := open(path, m)
		if err != nil {
			return nil, err
		}
		return &port{Port: p, r: r}, nil
	}
}

// port records what passes through a devices.Port.
type port struct {
	devices.Port
	r *Recorder
}

func (p *port) Read(b []byte) (int, error) {
	n, err := p.Port.Read(b)
	if n > 0 || (err != nil && !errors.Is(err, io.EOF)) {
		p.r.Note(In, b[:n], err)
	}
	return n, err
}

func (p *port) Write(b []byte) (int, error) {
	n, err := p.Port.Write(b)
	p.r.Note(Out, b[:n], err)
	return n, err
}

func isCard(protocol string) bool { return protocol == "rdm6300" || protocol == "line" }
