// Package card owns the kiosk's card readers: the RDM6300 (125 kHz EM4100)
// frame format and generic one-line-per-card readers, de-duplication of a card
// held in the field, and the MyQ-style transform chain that turns a raw card
// id into the number MyQ knows.
// See docs/ARCHITECTURE.md for its place among the packages.
package card

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"github.com/printroom/voucherkiosk/devices"
)

// Format is a reader's wire format.
type Format string

const (
	FormatRDM6300 Format = "rdm6300"
	FormatLine    Format = "line"
)

// repeatWindow is how long the same card counts as still in the field: an
// RDM6300 repeats its frame about every 50 ms while the card is held.
const repeatWindow = 1500 * time.Millisecond

// Config describes one card reader.
type Config struct {
	Name      string
	Port      string
	Baud      int    // 0 means 9600
	Format    string // "rdm6300" or "line"
	Pattern   string // line only: optional regex whose first group is the number
	Transform Chain
	Open      devices.OpenFunc // nil means the real serial port
	Log       *slog.Logger
	Now       func() time.Time // nil means time.Now
}

// Reader is a card reader on a serial port.
type Reader struct {
	cfg     Config
	pattern *regexp.Regexp
	log     *slog.Logger
	now     func() time.Time
}

var _ devices.Device = (*Reader)(nil)

// NewReader checks the config and returns a reader ready to Run.
func NewReader(cfg Config) (*Reader, error) {
	if cfg.Name == "" {
		return nil, errors.New("card reader: name is empty")
	}
	if cfg.Port == "" {
		return nil, fmt.Errorf("card reader %s: port is empty", cfg.Name)
	}
	if cfg.Baud == 0 {
		cfg.Baud = 9600
	}
	if cfg.Baud < 0 {
		return nil, fmt.Errorf("card reader %s: baud %d is not a baud rate", cfg.Name, cfg.Baud)
	}
	r := &Reader{cfg: cfg, log: cfg.Log, now: cfg.Now}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.now == nil {
		r.now = time.Now
	}
	switch Format(cfg.Format) {
	case FormatRDM6300:
		if cfg.Pattern != "" {
			return nil, fmt.Errorf("card reader %s: pattern is only for format %q", cfg.Name, FormatLine)
		}
	case FormatLine:
		if cfg.Pattern != "" {
			re, err := regexp.Compile(cfg.Pattern)
			if err != nil {
				return nil, fmt.Errorf("card reader %s: pattern: %w", cfg.Name, err)
			}
			if re.NumSubexp() < 1 {
				return nil, fmt.Errorf("card reader %s: pattern %q needs a group around the number", cfg.Name, cfg.Pattern)
			}
			r.pattern = re
		}
	default:
		return nil, fmt.Errorf("card reader %s: format %q unknown; known: %s, %s", cfg.Name, cfg.Format, FormatRDM6300, FormatLine)
	}
	return r, nil
}

// Name is the configured name.
func (r *Reader) Name() string { return r.cfg.Name }

// framer turns a byte stream into raw card ids.
type framer interface {
	// feed takes one byte; it returns a raw id when a good frame ends and
	// bad=true when it discarded a frame or a run of garbage.
	feed(b byte) (id string, ok, bad bool)
}

// Run reads cards until ctx ends, reopening the port when it vanishes.
func (r *Reader) Run(ctx context.Context, out chan<- devices.Event) error {
	send := func(ev devices.Event) {
		select {
		case out <- ev:
		case <-ctx.Done():
		}
	}
	var lastID string
	var lastSeen time.Time
	noise := devices.NewNoise(r.cfg.Name, r.log, r.now)
	defer noise.Flush()
	return devices.Keep(ctx, devices.KeepConfig{
		Device: r.cfg.Name, Path: r.cfg.Port, Mode: devices.Mode{Baud: r.cfg.Baud},
		Open: r.cfg.Open, Log: r.log,
		Status: func(s devices.StatusChange) { send(s) },
	}, func(ctx context.Context, p devices.Port) error {
		var f framer
		if Format(r.cfg.Format) == FormatRDM6300 {
			f = &rdmFramer{}
		} else {
			f = &lineFramer{}
		}
		if err := p.SetReadTimeout(-1); err != nil {
			return fmt.Errorf("card reader %s: %w", r.cfg.Name, err)
		}
		buf := make([]byte, 256)
		for {
			n, err := p.Read(buf)
			if err != nil {
				return fmt.Errorf("card reader %s: read: %w", r.cfg.Name, err)
			}
			if n == 0 {
				continue // cannot happen without a timeout; tolerate it
			}
			bad, unmatched := 0, 0
			for _, b := range buf[:n] {
				raw, ok, isBad := f.feed(b)
				if isBad {
					bad++
				}
				if !ok {
					continue
				}
				if r.pattern != nil {
					m := r.pattern.FindStringSubmatch(raw)
					if m == nil || m[1] == "" {
						r.log.Debug("card line does not match pattern", "device", r.cfg.Name, "line", devices.MaskCard(raw))
						unmatched++
						continue
					}
					raw = m[1]
				}
				now := r.now()
				if raw == lastID && now.Sub(lastSeen) < repeatWindow {
					lastSeen = now // still in the field
					continue
				}
				lastID, lastSeen = raw, now
				num, err := r.cfg.Transform.Apply(raw)
				if err != nil {
					r.log.Warn("card number cannot be transformed", "device", r.cfg.Name,
						"raw", devices.MaskCard(raw), "transform", r.cfg.Transform.String(), "err", maskedReason(err))
					send(devices.StatusChange{Device: r.cfg.Name, Status: devices.StatusConfigMismatch,
						Detail: "card " + devices.MaskCard(raw) + " does not fit transform " + r.cfg.Transform.String(), At: now})
					continue
				}
				r.log.Info("card read", "device", r.cfg.Name, "card", devices.MaskCard(num))
				send(devices.CardRead{Device: r.cfg.Name, Number: num, At: now})
			}
			// Noise is summed: one log line and one status a minute at most.
			wrote := noise.Add("bad frames", bad)
			wrote = noise.Add("lines not matching the pattern", unmatched) || wrote
			if wrote {
				_, total := noise.Summary()
				send(devices.StatusChange{Device: r.cfg.Name, Status: devices.StatusBadFrames,
					Detail: fmt.Sprintf("noise on the line: %d bad frames, %d unmatched lines since start (summed once a minute)",
						total["bad frames"], total["lines not matching the pattern"]), At: r.now()})
			}
			if ctx.Err() != nil {
				return nil
			}
		}
	})
}

// maskedReason describes a transform error without the card number in it.
func maskedReason(err error) string {
	var te *TransformError
	if errors.As(err, &te) {
		return fmt.Sprintf("word %d %s: %s %s", te.Pos, te.Word, devices.MaskCard(te.Value), te.Reason)
	}
	return "transform failed"
}

// rdmFramer decodes RDM6300 frames: STX, 10 hex data, 2 hex checksum, ETX,
// and the ID-12LA / ID-20LA form of the same frame with CR LF before ETX.
type rdmFramer struct {
	buf     [12]byte
	n       int
	tail    int // 1 after the CR, 2 after CR LF (ID-12LA/ID-20LA)
	inFrame bool
	junk    bool // inside a run of garbage already counted
}

const (
	stx = 0x02
	etx = 0x03
)

func (f *rdmFramer) feed(b byte) (string, bool, bool) {
	if b == stx {
		// A start inside a frame means the previous one was cut short:
		// resynchronise on this byte.
		bad := f.inFrame
		f.inFrame, f.n, f.tail, f.junk = true, 0, 0, false
		return "", false, bad
	}
	if !f.inFrame {
		if f.junk {
			return "", false, false
		}
		f.junk = true
		return "", false, true
	}
	if f.n < len(f.buf) {
		if !isHex(b) {
			f.inFrame, f.junk = false, true
			return "", false, true
		}
		f.buf[f.n] = b
		f.n++
		return "", false, false
	}
	if b == '\r' && f.tail == 0 || b == '\n' && f.tail == 1 {
		f.tail++
		return "", false, false
	}
	f.inFrame = false
	if b != etx || f.tail == 1 {
		f.junk = true
		return "", false, true
	}
	id, ok := decodeRDM(f.buf[:])
	if !ok {
		return "", false, true
	}
	return id, true, false
}

// decodeRDM checks the 12 hex characters of a frame body and returns the 10
// data characters in upper case.
func decodeRDM(body []byte) (string, bool) {
	var v [6]byte
	for i := range v {
		v[i] = hexVal(body[2*i])<<4 | hexVal(body[2*i+1])
	}
	if v[0]^v[1]^v[2]^v[3]^v[4] != v[5] {
		return "", false
	}
	const digits = "0123456789ABCDEF"
	out := make([]byte, 10)
	for i := 0; i < 5; i++ {
		out[2*i], out[2*i+1] = digits[v[i]>>4], digits[v[i]&0xF]
	}
	return string(out), true
}

func isHex(b byte) bool {
	return (b >= '0' && b <= '9') || (b >= 'A' && b <= 'F') || (b >= 'a' && b <= 'f')
}

func hexVal(b byte) byte {
	switch {
	case b >= '0' && b <= '9':
		return b - '0'
	case b >= 'A' && b <= 'F':
		return b - 'A' + 10
	case b >= 'a' && b <= 'f':
		return b - 'a' + 10
	}
	return 0
}

// maxLine is the longest card line accepted; anything longer is noise.
const maxLine = 64

// lineFramer splits CR/LF/CRLF terminated lines of printable ASCII.
type lineFramer struct {
	buf      []byte
	overflow bool
	dirty    bool // a non-printable byte was seen in this line
}

func (f *lineFramer) feed(b byte) (string, bool, bool) {
	if b == '\r' || b == '\n' {
		line, overflow, dirty := f.buf, f.overflow, f.dirty
		f.buf, f.overflow, f.dirty = f.buf[:0], false, false
		if overflow || dirty {
			return "", false, true
		}
		s := trimSpace(line)
		if s == "" {
			return "", false, false // the LF of a CRLF, or a blank line
		}
		return s, true, false
	}
	if f.overflow {
		return "", false, false
	}
	if b < 0x20 || b > 0x7e {
		f.dirty = true
	}
	if len(f.buf) >= maxLine {
		f.overflow = true
		f.buf = f.buf[:0]
		return "", false, false
	}
	f.buf = append(f.buf, b)
	return "", false, false
}

func trimSpace(b []byte) string {
	i, j := 0, len(b)
	for i < j && b[i] == ' ' {
		i++
	}
	for j > i && b[j-1] == ' ' {
		j--
	}
	return string(b[i:j])
}

// Framer splits a reader's byte stream into raw card ids, as Run does: for
// tools that look at a recorded stream (the serial trace).
type Framer interface {
	// Feed takes one byte; it returns a raw id when a good frame ends and
	// bad=true when it discarded a frame or a run of garbage.
	Feed(b byte) (id string, ok, bad bool)
}

type framerFunc func(byte) (string, bool, bool)

func (f framerFunc) Feed(b byte) (string, bool, bool) { return f(b) }

// NewFramer returns the framer of a reader format ("rdm6300" or "line").
func NewFramer(format string) Framer {
	if Format(format) == FormatRDM6300 {
		return framerFunc((&rdmFramer{}).feed)
	}
	return framerFunc((&lineFramer{}).feed)
}
