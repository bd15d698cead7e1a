package coin

import (
	"errors"
	"fmt"
)

// ccTalk framing: [dest][len][src][header][data...][checksum]. With CRC16
// the src byte carries the CRC's low byte and the checksum its high byte.

const (
	ccHostAddr = 1
	ccMaxData  = 252
)

// ccTalk headers the driver uses.
const (
	hdrACK         = 0
	hdrNAK         = 5
	hdrBusy        = 6
	hdrSimplePoll  = 254
	hdrManufID     = 246
	hdrProductCode = 244
	hdrSerial      = 242
	hdrCoinID      = 184
	hdrSetInhibits = 231
	hdrSetMaster   = 228
	hdrReadCredit  = 229
)

// errBadFrame is a reply that failed its checksum or shape.
var errBadFrame = errors.New("bad frame")

// encodeFrame builds a message from src to dest.
func encodeFrame(dest, src, header byte, data []byte, crc bool) []byte {
	f := make([]byte, 0, len(data)+5)
	f = append(f, dest, byte(len(data)), src, header)
	f = append(f, data...)
	f = append(f, 0)
	if crc {
		c := ccCRC16(f)
		f[2], f[len(f)-1] = byte(c), byte(c>>8)
		return f
	}
	var s byte
	for _, b := range f {
		s += b
	}
	f[len(f)-1] = -s
	return f
}

// ccFrame is a decoded message.
type ccFrame struct {
	dest, src, header byte
	data              []byte
}

// decodeFrame checks one complete message (len(f) == f[1]+5). With CRC16
// the source address is not on the wire and src is reported as 0.
func decodeFrame(f []byte, crc bool) (ccFrame, error) {
	if len(f) < 5 || len(f) != int(f[1])+5 {
		return ccFrame{}, fmt.Errorf("%w: length %d", errBadFrame, len(f))
	}
	if crc {
		c := ccCRC16(f)
		if f[2] != byte(c) || f[len(f)-1] != byte(c>>8) {
			return ccFrame{}, fmt.Errorf("%w: CRC mismatch", errBadFrame)
		}
		return ccFrame{dest: f[0], header: f[3], data: f[4 : len(f)-1]}, nil
	}
	var s byte
	for _, b := range f {
		s += b
	}
	if s != 0 {
		return ccFrame{}, fmt.Errorf("%w: checksum off by %d", errBadFrame, s)
	}
	return ccFrame{dest: f[0], src: f[2], header: f[3], data: f[4 : len(f)-1]}, nil
}

// ccCRC16 is CRC-CCITT (poly 0x1021, init 0) over dest, len, header, data.
func ccCRC16(f []byte) uint16 {
	var crc uint16
	upd := func(b byte) {
		crc ^= uint16(b) << 8
		for i := 0; i < 8; i++ {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	upd(f[0])
	upd(f[1])
	for _, b := range f[3 : len(f)-1] {
		upd(b)
	}
	return crc
}

// creditEvent is one entry of a 229 reply.
type creditEvent struct {
	A, B    byte
	Counter int // the event counter after this event
}

// creditPlan is what a 229 reply means given the last processed counter.
type creditPlan struct {
	Reset  bool          // the device counter went back to 0
	Lost   int           // events that fell out of the 5-deep buffer
	Events []creditEvent // new events, oldest first
	Last   int           // the counter after processing
}

// planCredits applies the event counter rules to a 229 reply
// [counter][A1][B1]...[A5][B5] (newest first).
func planCredits(data []byte, last int) (creditPlan, error) {
	if len(data) != 11 {
		return creditPlan{}, fmt.Errorf("%w: credit reply has %d bytes, want 11", errBadFrame, len(data))
	}
	if last < 0 || last > 255 {
		return creditPlan{}, fmt.Errorf("last event counter %d out of range 0..255", last)
	}
	counter := int(data[0])
	if counter == 0 {
		return creditPlan{Reset: last != 0, Last: 0}, nil
	}
	diff := counter - last
	if diff < 0 {
		diff += 255
	}
	if diff == 0 {
		return creditPlan{Last: last}, nil
	}
	plan := creditPlan{Last: counter}
	n := min(diff, 5)
	plan.Lost = diff - n
	for i := n - 1; i >= 0; i-- { // index 0 is the newest
		plan.Events = append(plan.Events, creditEvent{
			A: data[1+2*i], B: data[2+2*i],
			Counter: counterBack(counter, i),
		})
	}
	return plan, nil
}

// counterBack is the counter value steps events before c (1..255 wrapping).
func counterBack(c, steps int) int {
	return ((c-1-steps)%255+255)%255 + 1
}
