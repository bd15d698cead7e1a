package devsim

import (
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// RDM6300 simulates a 125 kHz EM4100 reader module.
type RDM6300 struct {
	*port
	// Repeats is how many frames one tap sends (a card held in the field
	// repeats about every 50 ms); Interval is the time between them.
	Repeats  int
	Interval time.Duration
	// CRLF sends the ID-12LA / ID-20LA form: CR LF before ETX.
	CRLF bool
}

// NewRDM6300 starts a reader whose pty is linked as dir/rdm6300 (dir ""
// means a new temp dir).
func NewRDM6300(dir string) (*RDM6300, error) {
	p, err := newPort(dir, "rdm6300", nil)
	if err != nil {
		return nil, err
	}
	if err := p.start(); err != nil {
		return nil, err
	}
	return &RDM6300{port: p, Repeats: 4, Interval: 50 * time.Millisecond}, nil
}

// RDM6300Frame is the 14-byte frame for a 10-hex-digit card id.
func RDM6300Frame(hex10 string) ([]byte, error) {
	if len(hex10) != 10 {
		return nil, fmt.Errorf("devsim: card id %q must be 10 hex digits", hex10)
	}
	v, err := hex.DecodeString(hex10)
	if err != nil {
		return nil, fmt.Errorf("devsim: card id %q: %w", hex10, err)
	}
	sum := v[0] ^ v[1] ^ v[2] ^ v[3] ^ v[4]
	f := make([]byte, 0, 14)
	f = append(f, 0x02)
	f = append(f, strings.ToUpper(hex10)...)
	f = append(f, fmt.Sprintf("%02X", sum)...)
	return append(f, 0x03), nil
}

// TapCard presents a card: the frame is sent Repeats times, Interval apart.
// It returns when the card has left the field.
func (r *RDM6300) TapCard(hex10 string) error {
	f, err := RDM6300Frame(hex10)
	if err != nil {
		return err
	}
	if r.CRLF {
		f = append(append(f[:len(f)-1:len(f)-1], '\r', '\n'), 0x03)
	}
	for i := 0; i < max(r.Repeats, 1); i++ {
		if i > 0 {
			time.Sleep(r.Interval)
		}
		if err := r.write(f); err != nil {
			return err
		}
	}
	return nil
}

// LineReader simulates a reader that types one line per card (CR LF).
type LineReader struct{ *port }

// NewLineReader starts a line reader linked as dir/cardline.
func NewLineReader(dir string) (*LineReader, error) {
	p, err := newPort(dir, "cardline", nil)
	if err != nil {
		return nil, err
	}
	if err := p.start(); err != nil {
		return nil, err
	}
	return &LineReader{port: p}, nil
}

// TapCard sends line followed by CR LF.
func (r *LineReader) TapCard(line string) error {
	return r.write([]byte(line + "\r\n"))
}
