package trace

import (
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/printroom/voucherkiosk/devices"
	"github.com/printroom/voucherkiosk/devices/bill"
	"github.com/printroom/voucherkiosk/devices/card"
)

// Decoder turns one direction's bytes into what they mean, frame by frame.
type Decoder interface {
	// Feed takes the next bytes and describes every frame they complete.
	Feed(b []byte) []string
}

// Protocols lists what a trace can decode.
var Protocols = []string{"rdm6300", "line", "pulse", "cctalk", "essp"}

// NewDecoders returns the decoders of both directions of a protocol; they
// share state (a reply is read in the light of the command before it).
func NewDecoders(protocol string, reveal bool) (map[Direction]Decoder, error) {
	switch protocol {
	case "essp":
		s := &esspState{}
		return map[Direction]Decoder{Out: &esspDecoder{s: s, out: true}, In: &esspDecoder{s: s}}, nil
	case "cctalk":
		return map[Direction]Decoder{Out: &ccDecoder{}, In: &ccDecoder{}}, nil
	case "pulse":
		return map[Direction]Decoder{Out: pulseDecoder{}, In: pulseDecoder{}}, nil
	case "rdm6300", "line":
		return map[Direction]Decoder{Out: pulseDecoder{}, In: &cardDecoder{f: card.NewFramer(protocol), reveal: reveal}}, nil
	}
	return nil, fmt.Errorf("trace: protocol %q unknown; known: %s", protocol, strings.Join(Protocols, ", "))
}

// NewDecoder is one direction's decoder (without shared state).
func NewDecoder(protocol string, dir Direction, reveal bool) (Decoder, error) {
	d, err := NewDecoders(protocol, reveal)
	if err != nil {
		return nil, err
	}
	return d[dir], nil
}

// esspState is what the replies need to know of the commands.
type esspState struct {
	last      bill.Command
	encrypted bool
}

type esspDecoder struct {
	s   *esspState
	out bool
	p   bill.Parser
}

func (d *esspDecoder) Feed(b []byte) []string {
	bad := d.p.Bad
	var out []string
	for _, f := range d.p.Feed(b) {
		out = append(out, fmt.Sprintf("seq %d: %s", b2i(f.Seq), d.frame(f.Data)))
	}
	if n := d.p.Bad - bad; n > 0 {
		out = append(out, fmt.Sprintf("%d bad frame(s) (CRC or framing)", n))
	}
	return out
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (d *esspDecoder) frame(data []byte) string {
	if len(data) > 0 && data[0] == bill.STEX {
		if d.out {
			d.s.encrypted = true
		}
		return fmt.Sprintf("eSSP encrypted packet, %d bytes (the session key is not in the trace)", len(data))
	}
	if d.out {
		c := bill.Command(data[0])
		d.s.last, d.s.encrypted = c, false
		arg := data[1:]
		switch {
		case (c == bill.CmdSetGenerator || c == bill.CmdSetModulus || c == bill.CmdRequestKeyExchange) && len(arg) == 8:
			return fmt.Sprintf("%s %d", c, binary.LittleEndian.Uint64(arg))
		case len(arg) > 0:
			return fmt.Sprintf("%s % X", c, arg)
		}
		return c.String()
	}
	r := bill.Response(data[0])
	if d.s.encrypted || r != bill.RespOK || len(data) == 1 {
		return r.String()
	}
	switch d.s.last {
	case bill.CmdPoll, bill.CmdPollWithAck:
		evs, err := bill.ParseEvents(data)
		var names []string
		for _, e := range evs {
			names = append(names, e.String())
		}
		s := "OK events: " + strings.Join(names, ", ")
		if err != nil {
			s += " (" + err.Error() + ")"
		}
		return s
	case bill.CmdSetupRequest:
		st, err := bill.ParseSetup(data)
		if err != nil {
			return "OK setup: " + err.Error()
		}
		return fmt.Sprintf("OK setup: firmware %s, %s, protocol %d, %d channels", st.Firmware, st.Country, st.Protocol, len(st.Channels))
	case bill.CmdRequestKeyExchange:
		if len(data) == 9 {
			return fmt.Sprintf("OK slave key %d", binary.LittleEndian.Uint64(data[1:]))
		}
	}
	return fmt.Sprintf("OK % X", data[1:])
}

// ccTalk headers a coin acceptor session uses.
var ccHeaders = map[byte]string{
	0: "ACK", 1: "reset device", 5: "NAK", 6: "BUSY", 184: "read coin id", 228: "modify master inhibit",
	229: "read buffered credit or error codes", 231: "modify inhibit status", 242: "request serial number",
	244: "request product code", 245: "request equipment category id", 246: "request manufacturer id", 254: "simple poll",
}

type ccDecoder struct{ buf []byte }

func (d *ccDecoder) Feed(b []byte) []string {
	d.buf = append(d.buf, b...)
	var out []string
	for len(d.buf) >= 2 {
		n := int(d.buf[1]) + 5
		if len(d.buf) < n {
			break
		}
		f := d.buf[:n]
		out = append(out, ccFrame(f))
		d.buf = d.buf[n:]
	}
	if len(d.buf) > 260 {
		out = append(out, fmt.Sprintf("%d bytes that make no frame", len(d.buf)))
		d.buf = d.buf[:0]
	}
	return out
}

func ccFrame(f []byte) string {
	var sum byte
	for _, c := range f {
		sum += c
	}
	check := "simple checksum ok"
	if sum != 0 {
		check = "not a simple checksum (CRC-16 mode, or damaged)"
	}
	h := ccHeaders[f[3]]
	if h == "" {
		h = fmt.Sprintf("header %d", f[3])
	}
	data := f[4 : len(f)-1]
	s := fmt.Sprintf("to %d from %d: %s", f[0], f[2], h)
	if len(data) > 0 {
		s += fmt.Sprintf(" data % X", data)
		if printable(data) {
			s += fmt.Sprintf(" %q", string(data))
		}
	}
	return s + "; " + check
}

func printable(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c > 0x7E {
			return false
		}
	}
	return true
}

type pulseDecoder struct{}

func (pulseDecoder) Feed(b []byte) []string {
	if printable(b) && len(b) > 1 {
		return []string{fmt.Sprintf("%d bytes, text %q", len(b), string(b))}
	}
	return []string{fmt.Sprintf("%d byte(s) (one per pulse, or a count: see encoding)", len(b))}
}

type cardDecoder struct {
	f      card.Framer
	reveal bool
}

func (d *cardDecoder) Feed(b []byte) []string {
	var out []string
	bad := 0
	for _, c := range b {
		id, ok, isBad := d.f.Feed(c)
		if isBad {
			bad++
		}
		if ok {
			if !d.reveal {
				id = devices.MaskCard(id)
			}
			out = append(out, "card "+id)
		}
	}
	if bad > 0 {
		out = append(out, fmt.Sprintf("%d bad frame(s)", bad))
	}
	return out
}
