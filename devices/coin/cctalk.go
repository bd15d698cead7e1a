package coin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/printroom/voucherkiosk/devices"
)

// CCTalkConfig describes a ccTalk coin acceptor.
type CCTalkConfig struct {
	Name         string
	Port         string
	Baud         int           // 0 means 9600
	Address      byte          // 0 means 2 (coin acceptor)
	CRC16        bool          // CRC-16 checksums instead of the simple sum
	PollInterval time.Duration // 0 means 100 ms
	Timeout      time.Duration // per reply; 0 means 250 ms
	Retries      int           // after a timeout or garbled reply; 0 means 2, <0 means none
	Values       map[int]int64 // coin position 1..16 -> minor units
	// LastCounter is the last processed event counter, restored from the
	// journal, so a restart neither re-credits nor drops buffered coins.
	LastCounter int
	Open        devices.OpenFunc
	Log         *slog.Logger
}

// Info is what the acceptor says about itself, for the technician.
type Info struct {
	Manufacturer, Product, Serial string
	Coins                         map[int]string // position -> coin id, e.g. "EU200A"
	// Echo says the line returns the host's own bytes (a single-wire bus);
	// native USB acceptors and some interfaces do not. Detected per reply.
	Echo bool
}

// CCTalk is a ccTalk coin acceptor.
type CCTalk struct {
	cfg  CCTalkConfig
	log  *slog.Logger
	mask uint16

	accepting atomic.Bool
	wake      chan struct{} // SetAccepting nudges the poll loop

	mu   sync.Mutex
	info Info
	last int
}

var _ devices.Acceptor = (*CCTalk)(nil)

// ErrNAK is a device refusing a command.
var ErrNAK = errors.New("ccTalk: device answered NAK")

// ErrTimeout is a device that did not answer in time.
var ErrTimeout = errors.New("ccTalk: no reply")

// NewCCTalk checks the config.
func NewCCTalk(cfg CCTalkConfig) (*CCTalk, error) {
	if cfg.Name == "" {
		return nil, errors.New("ccTalk acceptor: name is empty")
	}
	bad := func(format string, a ...any) error {
		return fmt.Errorf("ccTalk acceptor %s: "+format, append([]any{cfg.Name}, a...)...)
	}
	if cfg.Port == "" {
		return nil, bad("port is empty")
	}
	if cfg.Baud == 0 {
		cfg.Baud = 9600
	}
	if cfg.Address == 0 {
		cfg.Address = 2
	}
	if cfg.Address == ccHostAddr {
		return nil, bad("address 1 is the host's")
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = 100 * time.Millisecond
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 250 * time.Millisecond
	}
	if cfg.Retries == 0 {
		cfg.Retries = 2
	}
	if cfg.Retries < 0 {
		cfg.Retries = 0
	}
	if cfg.Baud < 0 || cfg.PollInterval < 0 || cfg.Timeout < 0 {
		return nil, bad("baud, poll interval and timeout must be positive")
	}
	if cfg.LastCounter < 0 || cfg.LastCounter > 255 {
		return nil, bad("last event counter %d out of range 0..255", cfg.LastCounter)
	}
	if len(cfg.Values) == 0 {
		return nil, bad("no values configured")
	}
	c := &CCTalk{cfg: cfg, log: cfg.Log, wake: make(chan struct{}, 1), last: cfg.LastCounter}
	for pos, v := range cfg.Values {
		if pos < 1 || pos > 16 {
			return nil, bad("coin position %d out of range 1..16", pos)
		}
		if v <= 0 {
			return nil, bad("coin position %d: amount %d must be positive", pos, v)
		}
		c.mask |= 1 << (pos - 1)
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

func (c *CCTalk) Name() string { return c.cfg.Name }

// CanInhibit is true: ccTalk has a master inhibit.
func (c *CCTalk) CanInhibit() bool { return true }

// SetAccepting enables or inhibits intake on the next exchange.
func (c *CCTalk) SetAccepting(on bool) {
	c.accepting.Store(on)
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// Info is what the device reported at the last connect.
func (c *CCTalk) Info() Info {
	c.mu.Lock()
	defer c.mu.Unlock()
	i := c.info
	i.Coins = make(map[int]string, len(c.info.Coins))
	for k, v := range c.info.Coins {
		i.Coins[k] = v
	}
	return i
}

// LastCounter is the last event counter processed.
func (c *CCTalk) LastCounter() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last
}

func (c *CCTalk) setLast(n int) {
	c.mu.Lock()
	c.last = n
	c.mu.Unlock()
}

// Run talks to the acceptor until ctx ends.
func (c *CCTalk) Run(ctx context.Context, out chan<- devices.Event) error {
	send := func(ev devices.Event) bool {
		select {
		case out <- ev:
			return true
		case <-ctx.Done():
			return false
		}
	}
	// "Connected" means the device answers, not just that the port opened,
	// so the session reports it after the start-up exchange; Keep's own
	// Connected is dropped and repeated Disconnected are folded.
	var shown devices.Status
	status := func(s devices.StatusChange) {
		if s.Status == devices.StatusConnected && s.Detail == c.cfg.Port {
			return
		}
		if s.Status == devices.StatusDisconnected && shown == devices.StatusDisconnected {
			return
		}
		if s.Status == devices.StatusConnected || s.Status == devices.StatusDisconnected {
			shown = s.Status
		}
		send(s)
	}
	return devices.Keep(ctx, devices.KeepConfig{
		Device: c.cfg.Name, Path: c.cfg.Port, Mode: devices.Mode{Baud: c.cfg.Baud},
		Open: c.cfg.Open, Log: c.log, Status: status,
	}, func(ctx context.Context, p devices.Port) error {
		return c.session(ctx, p, send, status)
	})
}

func (c *CCTalk) session(ctx context.Context, p devices.Port, send func(devices.Event) bool, status func(devices.StatusChange)) error {
	conn := &ccConn{p: p, addr: c.cfg.Address, crc: c.cfg.CRC16, timeout: c.cfg.Timeout, retries: c.cfg.Retries}
	if err := p.ResetInputBuffer(); err != nil {
		return fmt.Errorf("ccTalk %s: %w", c.cfg.Name, err)
	}
	if err := c.identify(conn); err != nil {
		return err
	}
	applied, err := c.configure(conn)
	if err != nil {
		return err
	}
	info := c.Info()
	status(devices.StatusChange{Device: c.cfg.Name, Status: devices.StatusConnected,
		Detail: strings.TrimSpace(info.Manufacturer + " " + info.Product + " serial " + info.Serial), At: time.Now()})
	t := time.NewTicker(c.cfg.PollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-c.wake:
		}
		if want := c.accepting.Load(); want != applied {
			if err := c.setMaster(conn, want); err != nil {
				return err
			}
			applied = want
		}
		data, err := conn.request(hdrReadCredit, nil)
		if err != nil {
			return fmt.Errorf("ccTalk %s: read credit: %w", c.cfg.Name, err)
		}
		plan, err := planCredits(data, c.LastCounter())
		if err != nil {
			return fmt.Errorf("ccTalk %s: read credit: %w", c.cfg.Name, err)
		}
		if plan.Reset {
			c.log.Warn("coin acceptor reset itself", "device", c.cfg.Name)
			c.setLast(0)
			if !send(devices.StatusChange{Device: c.cfg.Name, Status: devices.StatusReset,
				Detail: "event counter went back to 0", At: time.Now()}) {
				return nil
			}
			// A reset device forgets its inhibits.
			if applied, err = c.configure(conn); err != nil {
				return err
			}
			continue
		}
		if plan.Lost > 0 {
			c.log.Error("coin acceptor events lost", "device", c.cfg.Name, "lost", plan.Lost)
			if !send(devices.StatusChange{Device: c.cfg.Name, Status: devices.StatusEventsLost,
				Detail: fmt.Sprintf("%d events lost: count the cash box", plan.Lost), At: time.Now()}) {
				return nil
			}
		}
		for _, ev := range plan.Events {
			for _, out := range c.events(ev) {
				if !send(out) {
					return nil
				}
			}
			c.setLast(ev.Counter)
		}
		if len(plan.Events) == 0 {
			c.setLast(plan.Last)
		}
	}
}

// events turns one buffered ccTalk event into kiosk events.
func (c *CCTalk) events(ev creditEvent) []devices.Event {
	now := time.Now()
	if ev.A > 0 {
		pos := int(ev.A)
		if v, ok := c.cfg.Values[pos]; ok {
			c.log.Info("coin", "device", c.cfg.Name, "position", pos, "amount", v, "counter", ev.Counter)
			return []devices.Event{devices.Credit{Device: c.cfg.Name, Amount: v, Key: strconv.Itoa(pos), Counter: ev.Counter, At: now}}
		}
		c.log.Warn("coin in an unconfigured position", "device", c.cfg.Name, "position", pos, "counter", ev.Counter)
		return []devices.Event{devices.UnrecognisedCash{Device: c.cfg.Name, What: fmt.Sprintf("coin position %d", pos), Counter: ev.Counter, At: now}}
	}
	if ev.B == 0 {
		return nil
	}
	st, detail := classifyCCError(ev.B)
	c.log.Warn("coin acceptor error", "device", c.cfg.Name, "detail", detail)
	out := []devices.Event{devices.StatusChange{Device: c.cfg.Name, Status: st, Detail: detail, At: now}}
	if ev.B == ccErrSwallowed {
		out = append(out, devices.UnrecognisedCash{Device: c.cfg.Name, What: "swallowed coin", Counter: ev.Counter, At: now})
	}
	return out
}

// identify reads who the device is; the coin ids are kept for the technician.
func (c *CCTalk) identify(conn *ccConn) error {
	if _, err := conn.request(hdrSimplePoll, nil); err != nil {
		return fmt.Errorf("ccTalk %s: simple poll: %w", c.cfg.Name, err)
	}
	info := Info{Coins: map[int]string{}}
	m, err := conn.request(hdrManufID, nil)
	if err != nil {
		return fmt.Errorf("ccTalk %s: manufacturer id: %w", c.cfg.Name, err)
	}
	info.Manufacturer = printable(m)
	info.Echo = conn.echo
	c.log.Info("ccTalk line", "device", c.cfg.Name, "echo", conn.echo)
	pr, err := conn.request(hdrProductCode, nil)
	if err != nil {
		return fmt.Errorf("ccTalk %s: product code: %w", c.cfg.Name, err)
	}
	info.Product = printable(pr)
	// Not every acceptor answers the serial number; it is only for show.
	if s, err := conn.request(hdrSerial, nil); err == nil && len(s) == 3 {
		info.Serial = strconv.Itoa(int(s[0]) | int(s[1])<<8 | int(s[2])<<16)
	} else if err != nil && !errors.Is(err, ErrNAK) {
		return fmt.Errorf("ccTalk %s: serial number: %w", c.cfg.Name, err)
	}
	for pos := 1; pos <= 16; pos++ {
		id, err := conn.request(hdrCoinID, []byte{byte(pos)})
		if errors.Is(err, ErrNAK) {
			// Some acceptors NAK a position they do not have: no coin here.
			continue
		}
		if err != nil {
			return fmt.Errorf("ccTalk %s: coin id %d: %w", c.cfg.Name, pos, err)
		}
		if s := printable(id); s != "" && strings.Trim(s, ".") != "" {
			info.Coins[pos] = s
		}
	}
	for pos := range c.cfg.Values {
		if _, ok := info.Coins[pos]; !ok {
			c.log.Warn("configured coin position has no coin programmed", "device", c.cfg.Name, "position", pos)
		}
	}
	c.mu.Lock()
	c.info = info
	c.mu.Unlock()
	return nil
}

// configure enables only the configured positions and applies the master
// inhibit as last asked; it returns the accepting state applied.
func (c *CCTalk) configure(conn *ccConn) (bool, error) {
	if _, err := conn.request(hdrSetInhibits, []byte{byte(c.mask), byte(c.mask >> 8)}); err != nil {
		return false, fmt.Errorf("ccTalk %s: set inhibits: %w", c.cfg.Name, err)
	}
	on := c.accepting.Load()
	return on, c.setMaster(conn, on)
}

func (c *CCTalk) setMaster(conn *ccConn, on bool) error {
	var b byte
	if on {
		b = 1
	}
	if _, err := conn.request(hdrSetMaster, []byte{b}); err != nil {
		return fmt.Errorf("ccTalk %s: master inhibit: %w", c.cfg.Name, err)
	}
	c.log.Info("coin acceptor intake", "device", c.cfg.Name, "accepting", on)
	return nil
}

func printable(b []byte) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return -1
		}
		return r
	}, string(b)))
}

// ccConn is request/reply on a single-wire ccTalk bus.
type ccConn struct {
	p       devices.Port
	addr    byte
	crc     bool
	timeout time.Duration
	retries int
	echo    bool // the last reply came after an echo of our message
	buf     [ccMaxData + 5]byte
}

// request sends one command and returns the ACK's data. Timeouts, garbled
// replies and BUSY are retried; NAK and a vanished port are not.
func (c *ccConn) request(header byte, data []byte) ([]byte, error) {
	msg := encodeFrame(c.addr, ccHostAddr, header, data, c.crc)
	var lastErr error
	for attempt := 0; attempt <= c.retries; attempt++ {
		if attempt > 0 {
			// Drop the rest of a garbled reply before trying again.
			if err := c.p.ResetInputBuffer(); err != nil {
				return nil, err
			}
		}
		reply, err := c.exchange(msg)
		if err == nil {
			return reply, nil
		}
		if errors.Is(err, ErrNAK) || !(errors.Is(err, ErrTimeout) || errors.Is(err, errBadFrame) || errors.Is(err, errBusy)) {
			return nil, err
		}
		lastErr = err
	}
	return nil, lastErr
}

var errBusy = errors.New("ccTalk: device busy")

func (c *ccConn) exchange(msg []byte) ([]byte, error) {
	if _, err := c.p.Write(msg); err != nil {
		return nil, fmt.Errorf("write: %w", err)
	}
	deadline := time.Now().Add(c.timeout)
	// On a single wire our own bytes come back first; native USB acceptors
	// and some interfaces give no echo. The first byte tells which: an echo
	// starts with the device's address, a reply with the host's (1), and
	// the two differ (NewCCTalk refuses address 1 for the device).
	head := c.buf[:2]
	if err := c.readFull(head[:1], deadline); err != nil {
		return nil, err
	}
	c.echo = head[0] == msg[0]
	if c.echo {
		echo := c.buf[:len(msg)]
		if err := c.readFull(echo[1:], deadline); err != nil {
			return nil, fmt.Errorf("echo: %w", err)
		}
		if !bytes.Equal(echo, msg) {
			return nil, fmt.Errorf("%w: echo differs (collision or noise)", errBadFrame)
		}
		if err := c.readFull(head, deadline); err != nil {
			return nil, err
		}
	} else if err := c.readFull(head[1:], deadline); err != nil {
		return nil, err
	}
	n := int(head[1]) + 5
	f := c.buf[:n]
	if err := c.readFull(f[2:], deadline); err != nil {
		return nil, err
	}
	fr, err := decodeFrame(f, c.crc)
	if err != nil {
		return nil, err
	}
	if fr.dest != ccHostAddr || (!c.crc && fr.src != c.addr) {
		return nil, fmt.Errorf("%w: reply from %d to %d", errBadFrame, fr.src, fr.dest)
	}
	switch fr.header {
	case hdrACK:
		return append([]byte(nil), fr.data...), nil
	case hdrNAK:
		return nil, ErrNAK
	case hdrBusy:
		return nil, errBusy
	}
	return nil, fmt.Errorf("%w: reply header %d", errBadFrame, fr.header)
}

func (c *ccConn) readFull(b []byte, deadline time.Time) error {
	for len(b) > 0 {
		left := time.Until(deadline)
		if left <= 0 {
			return ErrTimeout
		}
		if err := c.p.SetReadTimeout(left); err != nil {
			return err
		}
		n, err := c.p.Read(b)
		if err != nil {
			return fmt.Errorf("read: %w", err)
		}
		b = b[n:]
	}
	return nil
}
