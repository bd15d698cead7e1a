package coin

import (
	"fmt"
	"strconv"
	"strings"
)

// Encoding is how a pulse-to-serial bridge reports a coin.
type Encoding string

const (
	// EncodingPulse: one byte per pulse; a silence of the gap ends the coin.
	EncodingPulse Encoding = "pulse"
	// EncodingCountByte: one byte per coin whose value is the pulse count
	// (1..31; printable bytes are text, such as a reset banner).
	EncodingCountByte Encoding = "count_byte"
	// EncodingCountLine: one ASCII line per coin holding the pulse count.
	EncodingCountLine Encoding = "count_line"
)

// MaxCountByte is the largest pulse count a count_byte bridge can report:
// bytes from 0x20 up are printable text (a banner), not counts.
const MaxCountByte = 31

// maxLine bounds a text line from a bridge: a board printing garbage must
// not grow memory.
const maxLine = 80

// bridgeItem is what a bridge said: a coin of count pulses, or a line of
// text (a banner when the board resets as the port opens) that is logged
// and never counted.
type bridgeItem struct {
	count int
	text  string
}

// decoder turns a bridge's bytes into items. It is pure: the caller says
// when the line went silent for the gap (end).
type decoder interface {
	feed(b []byte) []bridgeItem
	// end is the gap's silence: whatever is pending becomes an item.
	end() []bridgeItem
	// pending reports bytes not yet turned into an item.
	pending() bool
}

func newDecoder(e Encoding) decoder {
	switch e {
	case EncodingCountByte:
		return &countByteDecoder{}
	case EncodingCountLine:
		return &countLineDecoder{}
	}
	return &pulseDecoder{}
}

// pulseDecoder counts bytes until the gap. Bridges send one fixed byte per
// pulse, so lines of text (printable bytes ended by CR or LF, more than one
// distinct byte) are a banner, not pulses: the bytes after the banner's last
// line end are the coin.
type pulseDecoder struct {
	total int    // every byte of the train
	seg   int    // bytes since the last line end
	text  []byte // the text before the last line end (for the log)
	segB  []byte // the current segment's first bytes
	lines bool   // some segment ended with CR or LF
	// binary/distinct describe the bytes before the last line end.
	binary, segBinary bool
	distinct          map[byte]bool
	segDistinct       map[byte]bool
}

func (d *pulseDecoder) feed(b []byte) []bridgeItem {
	if d.distinct == nil {
		d.distinct, d.segDistinct = map[byte]bool{}, map[byte]bool{}
	}
	for _, c := range b {
		d.total++
		if c == '\r' || c == '\n' {
			d.lines = true
			d.binary = d.binary || d.segBinary
			for k := range d.segDistinct {
				d.distinct[k] = true
			}
			d.distinct[c] = true
			if len(d.segB) > 0 && len(d.text)+len(d.segB) <= maxLine {
				if len(d.text) > 0 {
					d.text = append(d.text, ' ')
				}
				d.text = append(d.text, d.segB...)
			}
			d.seg, d.segB, d.segBinary = 0, d.segB[:0], false
			clear(d.segDistinct)
			continue
		}
		d.seg++
		if c < 0x20 && c != '\t' || c > 0x7E {
			d.segBinary = true
		}
		if len(d.segDistinct) < 3 {
			d.segDistinct[c] = true
		}
		if len(d.segB) < maxLine {
			d.segB = append(d.segB, c)
		}
	}
	return nil
}

func (d *pulseDecoder) end() []bridgeItem {
	if d.total == 0 {
		return nil
	}
	var out []bridgeItem
	switch {
	case d.lines && !d.binary && len(d.distinct) > 2:
		out = append(out, bridgeItem{text: cleanText(d.text)})
		if d.seg > 0 {
			out = append(out, bridgeItem{count: d.seg})
		}
	default:
		out = append(out, bridgeItem{count: d.total})
	}
	*d = pulseDecoder{}
	return out
}

func (d *pulseDecoder) pending() bool { return d.total > 0 }

// countByteDecoder: bytes 1..31 are coins; printable bytes form a text line
// up to CR or LF (a CR LF pair ends one line); 0 is ignored.
type countByteDecoder struct {
	line    []byte
	inText  bool
	afterCR bool
}

func (d *countByteDecoder) feed(b []byte) []bridgeItem {
	var out []bridgeItem
	for _, c := range b {
		cr := d.afterCR
		d.afterCR = false
		switch {
		case d.inText && (c == '\r' || c == '\n'):
			out = append(out, bridgeItem{text: cleanText(d.line)})
			d.line, d.inText, d.afterCR = d.line[:0], false, c == '\r'
		case d.inText || c >= 0x20:
			d.inText = true
			if len(d.line) < maxLine {
				d.line = append(d.line, c)
			}
		case c == '\n' && cr:
			// The LF of a banner's CR LF, not a 10-pulse coin.
		case c == 0:
		default:
			out = append(out, bridgeItem{count: int(c)})
		}
	}
	return out
}

func (d *countByteDecoder) end() []bridgeItem {
	d.afterCR = false
	if !d.inText {
		return nil
	}
	// A text line that stopped without its end of line: still text.
	it := bridgeItem{text: cleanText(d.line)}
	d.line, d.inText = d.line[:0], false
	return []bridgeItem{it}
}

func (d *countByteDecoder) pending() bool { return d.inText }

// countLineDecoder: a line that is a whole number 1..255 is a coin; any
// other line is text.
type countLineDecoder struct {
	line []byte
	long bool
}

func (d *countLineDecoder) feed(b []byte) []bridgeItem {
	var out []bridgeItem
	for _, c := range b {
		if c == '\n' || c == '\r' {
			if len(d.line) > 0 || d.long {
				out = append(out, d.take())
			}
			continue
		}
		if len(d.line) < maxLine {
			d.line = append(d.line, c)
		} else {
			d.long = true
		}
	}
	return out
}

func (d *countLineDecoder) take() bridgeItem {
	s := strings.TrimSpace(string(d.line))
	long := d.long
	d.line, d.long = d.line[:0], false
	if n, err := strconv.Atoi(s); err == nil && !long && n >= 1 && n <= 255 && strconv.Itoa(n) == s {
		return bridgeItem{count: n}
	}
	return bridgeItem{text: cleanText([]byte(s))}
}

func (d *countLineDecoder) end() []bridgeItem {
	if len(d.line) == 0 && !d.long {
		return nil
	}
	return []bridgeItem{d.take()}
}

func (d *countLineDecoder) pending() bool { return len(d.line) > 0 || d.long }

// cleanText makes bridge text safe for one log line.
func cleanText(b []byte) string {
	s := strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7E {
			return -1
		}
		return r
	}, string(b))
	if len(s) > maxLine {
		s = s[:maxLine]
	}
	if s == "" {
		return fmt.Sprintf("(%d control bytes)", len(b))
	}
	return s
}
