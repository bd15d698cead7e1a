package devsim

import (
	"fmt"
	"sync"
)

// ccTalk addresses and headers the simulator answers.
const (
	ccHost     = 1
	ccCoin     = 2
	hdrACK     = 0
	hdrNAK     = 5
	hdrReset   = 1
	hdrPoll    = 254
	hdrManuf   = 246
	hdrProduct = 244
	hdrSerial  = 242
	hdrCoinID  = 184
	hdrInhibit = 231
	hdrMaster  = 228
	hdrCredit  = 229
)

// CCTalk simulates a ccTalk coin acceptor at address 2 on a single-wire bus:
// everything the host writes is echoed back before the reply, unless echo is
// off (native USB acceptors and some interfaces give none).
type CCTalk struct {
	*port

	mu      sync.Mutex
	coins   map[int]string // position -> 6-char coin id
	crc16   bool
	noEcho  bool
	idNAK   bool // positions without a coin answer 184 with NAK
	rx      []byte
	counter int       // 0 after reset, then 1..255
	events  [][2]byte // newest first, at most 5
	master  bool      // accepting
	mask    uint16    // bit n-1 = position n enabled
	polls   int
}

// NewCCTalk starts an acceptor linked as dir/cctalk. coins maps positions
// 1..16 to coin ids such as "EU050A". It powers up inhibited, as real ones do.
func NewCCTalk(dir string, coins map[int]string) (*CCTalk, error) {
	c := &CCTalk{coins: map[int]string{}}
	for k, v := range coins {
		c.coins[k] = v
	}
	p, err := newPort(dir, "cctalk", c.onData)
	if err != nil {
		return nil, err
	}
	c.port = p
	if err := p.start(); err != nil {
		return nil, err
	}
	return c, nil
}

// SetCRC16 switches the framing to the CRC-16 checksum variant.
func (c *CCTalk) SetCRC16(on bool) {
	c.mu.Lock()
	c.crc16 = on
	c.mu.Unlock()
}

// SetEcho turns the bus echo of the host's bytes on (the default) or off.
func (c *CCTalk) SetEcho(on bool) {
	c.mu.Lock()
	c.noEcho = !on
	c.mu.Unlock()
}

// SetCoinIDNAK makes positions without a coin answer "read coin id" (184)
// with NAK, as some acceptors do, instead of an id of dots.
func (c *CCTalk) SetCoinIDNAK(on bool) {
	c.mu.Lock()
	c.idNAK = on
	c.mu.Unlock()
}

// Accepting reports the master inhibit as the host last set it.
func (c *CCTalk) Accepting() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.master
}

// Mask is the per-coin inhibit mask as the host last set it.
func (c *CCTalk) Mask() uint16 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mask
}

// Polls counts the credit polls (229) answered.
func (c *CCTalk) Polls() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.polls
}

// Counter is the current event counter.
func (c *CCTalk) Counter() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.counter
}

// InsertCoin puts a coin in. It is accepted (an event, reported true) only
// when the master inhibit is off and the position is known and enabled;
// otherwise it is returned to the customer with no event.
func (c *CCTalk) InsertCoin(position int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.coins[position]; !ok || position < 1 || position > 16 {
		return false
	}
	if !c.master || c.mask&(1<<(position-1)) == 0 {
		return false
	}
	c.push(byte(position), 1)
	return true
}

// Error reports an error code (A = 0, B = code) as the next event.
func (c *CCTalk) Error(code byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.push(0, code)
}

// ResetDevice simulates a power glitch: counter 0, buffer empty, inhibited.
func (c *CCTalk) ResetDevice() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reset()
}

func (c *CCTalk) reset() {
	c.counter, c.events, c.master, c.mask = 0, nil, false, 0
}

func (c *CCTalk) push(a, b byte) {
	c.counter++
	if c.counter > 255 {
		c.counter = 1
	}
	c.events = append([][2]byte{{a, b}}, c.events...)
	if len(c.events) > 5 {
		c.events = c.events[:5]
	}
}

// onData runs on the pty reader goroutine.
func (c *CCTalk) onData(p []byte) {
	c.mu.Lock()
	echo := !c.noEcho
	c.mu.Unlock()
	if echo {
		// The bus echoes every byte the host sends.
		c.write(p)
	}
	c.mu.Lock()
	c.rx = append(c.rx, p...)
	var replies [][]byte
	for len(c.rx) >= 5 {
		n := int(c.rx[1]) + 5
		if len(c.rx) < n {
			break
		}
		f := c.rx[:n]
		if !c.valid(f) {
			// A real device drops a garbled message and waits for the
			// host to time out; resync by dropping one byte.
			c.rx = c.rx[1:]
			continue
		}
		c.rx = c.rx[n:]
		if f[0] != ccCoin {
			continue
		}
		if r := c.handle(f[3], f[4:n-1]); r != nil {
			replies = append(replies, r)
		}
	}
	c.mu.Unlock()
	for _, r := range replies {
		c.write(r)
	}
}

func (c *CCTalk) valid(f []byte) bool {
	if c.crc16 {
		sum := ccCRC(f)
		return f[2] == byte(sum) && f[len(f)-1] == byte(sum>>8)
	}
	var s byte
	for _, b := range f {
		s += b
	}
	return s == 0
}

// ccCRC is CRC-CCITT (0x1021, init 0) over dest, len, header and data.
func ccCRC(f []byte) uint16 {
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

func (c *CCTalk) frame(hdr byte, data []byte) []byte {
	f := make([]byte, 0, len(data)+5)
	f = append(f, ccHost, byte(len(data)), ccCoin, hdr)
	f = append(f, data...)
	f = append(f, 0)
	if c.crc16 {
		sum := ccCRC(f)
		f[2], f[len(f)-1] = byte(sum), byte(sum>>8)
		return f
	}
	var s byte
	for _, b := range f {
		s += b
	}
	f[len(f)-1] = -s
	return f
}

func (c *CCTalk) handle(hdr byte, data []byte) []byte {
	ack := func(d []byte) []byte { return c.frame(hdrACK, d) }
	switch hdr {
	case hdrPoll:
		return ack(nil)
	case hdrReset:
		c.reset()
		return ack(nil)
	case hdrManuf:
		return ack([]byte("SIM"))
	case hdrProduct:
		return ack([]byte("CoinSim"))
	case hdrSerial:
		return ack([]byte{0x40, 0xE2, 0x01}) // 123456, LSB first
	case hdrCoinID:
		if len(data) != 1 {
			return c.frame(hdrNAK, nil)
		}
		id, ok := c.coins[int(data[0])]
		if !ok && c.idNAK {
			return c.frame(hdrNAK, nil)
		}
		if !ok {
			id = "......"
		}
		return ack([]byte(fmt.Sprintf("%-6.6s", id)))
	case hdrInhibit:
		if len(data) != 2 {
			return c.frame(hdrNAK, nil)
		}
		c.mask = uint16(data[0]) | uint16(data[1])<<8
		return ack(nil)
	case hdrMaster:
		if len(data) != 1 {
			return c.frame(hdrNAK, nil)
		}
		c.master = data[0]&1 == 1
		return ack(nil)
	case hdrCredit:
		c.polls++
		d := make([]byte, 11)
		d[0] = byte(c.counter)
		for i, e := range c.events {
			d[1+2*i], d[2+2*i] = e[0], e[1]
		}
		return ack(d)
	}
	return c.frame(hdrNAK, nil)
}
