// Package bill drives ITL bill validators (NV9, NV10, NV200) over SSP and
// its encrypted form eSSP: framing, the start-up handshake, polling, and the
// escrow dance that lets the engine journal a note before it is stacked.
// See docs/ARCHITECTURE.md for its place among the packages.
//
// The package owns the wire protocol and the note state machine; it knows
// nothing about sessions or accounts. It reports what the device says as
// devices events and applies the engine's escrow decisions.
package bill

import (
	"errors"
	"fmt"
)

// STX starts every SSP frame. Inside a frame every 0x7F byte is doubled.
const STX = 0x7F

// maxData is the most data one frame can carry (LEN is one byte).
const maxData = 255

// Frame is one SSP packet without its framing: the sequence flag, the slave
// id and the data (command or reply, possibly an encrypted 0x7E payload).
type Frame struct {
	Seq  bool
	ID   byte
	Data []byte
}

// CRC16 is SSP's checksum: polynomial 0x8005, seed 0xFFFF, MSB first, no
// reflection.
func CRC16(b []byte) uint16 {
	crc := uint16(0xFFFF)
	for _, c := range b {
		crc ^= uint16(c) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x8005
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

// ErrFrameTooLong is returned when a frame's data does not fit one LEN byte.
var ErrFrameTooLong = errors.New("ssp: frame data longer than 255 bytes")

// Encode renders f on the wire: STX, stuffed SEQ/ID, LEN, DATA and CRC.
func (f Frame) Encode() ([]byte, error) {
	if len(f.Data) > maxData {
		return nil, ErrFrameTooLong
	}
	body := make([]byte, 0, len(f.Data)+4)
	seqid := f.ID & 0x7F
	if f.Seq {
		seqid |= 0x80
	}
	body = append(body, seqid, byte(len(f.Data)))
	body = append(body, f.Data...)
	crc := CRC16(body)
	body = append(body, byte(crc), byte(crc>>8))
	out := make([]byte, 0, len(body)+8)
	out = append(out, STX)
	for _, c := range body {
		out = append(out, c)
		if c == STX {
			out = append(out, STX)
		}
	}
	return out, nil
}

// Parser turns a byte stream into frames. It survives garbage: a bad CRC or
// a lone 0x7F (a new STX inside a frame) drops what it had and resynchronises
// on the next frame start. The zero value is ready to use.
type Parser struct {
	in      bool   // inside a frame (after STX)
	stuffed bool   // the previous byte was a 0x7F waiting for its twin
	buf     []byte // unstuffed SEQ/ID, LEN, DATA, CRC
	// Bad counts frames (or frame starts) thrown away: garbage on the line.
	Bad int
}

// Feed consumes b and returns every frame it completed. The returned frames
// own their data.
func (p *Parser) Feed(b []byte) []Frame {
	var out []Frame
	for _, c := range b {
		if f, ok := p.push(c); ok {
			out = append(out, f)
		}
	}
	return out
}

func (p *Parser) push(c byte) (Frame, bool) {
	if !p.in {
		if c == STX {
			p.start()
		}
		return Frame{}, false
	}
	if c == STX {
		if p.stuffed {
			p.stuffed = false
			return p.add(STX)
		}
		p.stuffed = true
		return Frame{}, false
	}
	if p.stuffed {
		// The 0x7F before c stood alone: it was a new STX, so the frame we
		// had was cut short.
		if len(p.buf) > 0 {
			p.Bad++
		}
		p.start()
	}
	return p.add(c)
}

func (p *Parser) start() {
	p.in, p.stuffed = true, false
	p.buf = p.buf[:0]
}

func (p *Parser) add(c byte) (Frame, bool) {
	p.buf = append(p.buf, c)
	if len(p.buf) == 2 && p.buf[1] == 0 {
		// SSP never sends an empty frame: this is noise.
		p.Bad++
		p.in = false
		return Frame{}, false
	}
	if len(p.buf) < 2 || len(p.buf) < int(p.buf[1])+4 {
		return Frame{}, false
	}
	p.in = false
	n := int(p.buf[1])
	got := uint16(p.buf[n+2]) | uint16(p.buf[n+3])<<8
	if CRC16(p.buf[:n+2]) != got {
		p.Bad++
		return Frame{}, false
	}
	data := make([]byte, n)
	copy(data, p.buf[2:n+2])
	return Frame{Seq: p.buf[0]&0x80 != 0, ID: p.buf[0] & 0x7F, Data: data}, true
}

// String shows a frame for logs and the probe.
func (f Frame) String() string {
	return fmt.Sprintf("seq=%t id=%d data=% X", f.Seq, f.ID, f.Data)
}
