// Package sspsim simulates an ITL bill validator speaking SSP/eSSP on a
// pseudo-terminal, so the bill driver and kioskctl can be exercised without
// hardware. It keeps the notes it really stacked (Stacked) so tests can
// compare them with what the host credited.
// See docs/ARCHITECTURE.md for its place among the packages.
//
// The simulated device follows ITL where ITL's documents and host code say
// what a device does (testdata/conformance/essp names the sources), even
// where that is inconvenient for our driver: it counts eSSP packets as ITL's
// host expects (the reply carries the command's count plus one), refuses a
// generator or modulus that is not a prime below 2^31 with
// PARAMETER_OUT_OF_RANGE and a key exchange without them with FAIL, and with
// POLL_WITH_ACK repeats only the events that need EVENT_ACK (CREDIT and the
// NOTE_CLEARED events) and takes no further note until they are
// acknowledged. It answers a repeated sequence flag with its cached reply
// (acting once), holds a note in escrow while HOLD arrives and rejects it
// after its own hold timeout, stacks it on the next poll, and re-announces a
// held note after a SYNC (a host that reconnected must decide again).
package sspsim

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"github.com/printroom/voucherkiosk/devices/bill"
)

// Options describe the simulated validator.
type Options struct {
	Channels    []int64       // channel 1..n values in minor units
	Currency    string        // default "EUR"
	Protocol    byte          // highest protocol version accepted; default 8. Below 7 there is no POLL_WITH_ACK.
	Encryption  bool          // commands other than the handshake must be encrypted
	FixedKey    uint64        // eSSP fixed key; default bill.DefaultFixedKey
	HoldTimeout time.Duration // a held note is rejected this long after the last HOLD; default 10 s
	Firmware    string        // 4 characters; default "0410"
	Log         *slog.Logger
}

// Sim is one simulated validator.
type Sim struct {
	opts Options
	link string
	log  *slog.Logger

	mu     sync.Mutex
	master *os.File
	tty    *os.File
	done   chan struct{} // closed when the current connection's reader ends
	closed bool

	// Device state, under mu.
	lastSeq      int // -1 none
	lastCmd      []byte
	cached       []byte // the last reply frame, resent for a repeated command
	proto        byte
	enabled      bool
	inhibits     uint16
	events       []bill.Event
	ackPending   []bill.Event // sent by POLL_WITH_ACK, repeated until EVENT_ACK
	escrowCh     int
	reported     bool // the escrow READ reached the host
	lastHold     time.Time
	stacked      []int
	generator    uint64
	modulus      uint64
	cipher       *bill.Cipher
	count        uint32
	drop         int
	discInEscrow bool
	commands     int
	pendingKey   uint64
}

// New starts a simulator whose port is a stable symlink in dir.
func New(dir string, opts Options) (*Sim, error) {
	if len(opts.Channels) == 0 || len(opts.Channels) > 16 {
		return nil, fmt.Errorf("sspsim: %d channels, want 1..16", len(opts.Channels))
	}
	if opts.Currency == "" {
		opts.Currency = "EUR"
	}
	if opts.Protocol == 0 {
		opts.Protocol = 8
	}
	if opts.FixedKey == 0 {
		opts.FixedKey = bill.DefaultFixedKey
	}
	if opts.HoldTimeout <= 0 {
		opts.HoldTimeout = 10 * time.Second
	}
	if opts.Firmware == "" {
		opts.Firmware = "0410"
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Sim{opts: opts, link: filepath.Join(dir, "ssp-validator"), log: log, lastSeq: -1, proto: 4}
	if err := s.Reconnect(); err != nil {
		return nil, err
	}
	return s, nil
}

// Path is the port to configure: a symlink that survives Reconnect.
func (s *Sim) Path() string { return s.link }

// Reconnect plugs the device in again: a new pty behind the same path.
func (s *Sim) Reconnect() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("sspsim: closed")
	}
	if s.master != nil {
		return nil
	}
	m, t, err := pty.Open()
	if err != nil {
		return fmt.Errorf("sspsim: open pty: %w", err)
	}
	// Raw before the host opens it: no echo, no line discipline.
	if err := makeRaw(t); err != nil {
		m.Close()
		t.Close()
		return fmt.Errorf("sspsim: raw pty: %w", err)
	}
	tmp := s.link + ".new"
	os.Remove(tmp)
	if err := os.Symlink(t.Name(), tmp); err != nil {
		m.Close()
		t.Close()
		return fmt.Errorf("sspsim: symlink: %w", err)
	}
	if err := os.Rename(tmp, s.link); err != nil {
		m.Close()
		t.Close()
		return fmt.Errorf("sspsim: symlink: %w", err)
	}
	s.master, s.tty = m, t
	done := make(chan struct{})
	s.done = done
	go s.serve(m, done)
	return nil
}

// Disconnect unplugs the device: the pty goes away and the path with it.
func (s *Sim) Disconnect() {
	s.mu.Lock()
	done := s.unplugLocked()
	s.mu.Unlock()
	if done != nil {
		<-done
	}
}

func (s *Sim) unplugLocked() chan struct{} {
	if s.master == nil {
		return nil
	}
	os.Remove(s.link)
	s.master.Close()
	s.tty.Close()
	s.master, s.tty = nil, nil
	return s.done
}

// Connected reports whether the pty is plugged in.
func (s *Sim) Connected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.master != nil
}

// Close unplugs the device and ends its goroutine.
func (s *Sim) Close() error {
	s.mu.Lock()
	s.closed = true
	done := s.unplugLocked()
	s.mu.Unlock()
	if done != nil {
		<-done
	}
	return nil
}

func (s *Sim) serve(m *os.File, done chan struct{}) {
	defer close(done)
	var p bill.Parser
	buf := make([]byte, 512)
	for {
		n, err := m.Read(buf)
		if err != nil {
			return
		}
		for _, f := range p.Feed(buf[:n]) {
			s.mu.Lock()
			if s.master != m {
				s.mu.Unlock()
				return
			}
			reply, unplug := s.handle(f)
			if unplug {
				s.unplugLocked()
				s.mu.Unlock()
				return
			}
			s.mu.Unlock()
			if reply != nil {
				if _, err := m.Write(reply); err != nil {
					return
				}
			}
		}
	}
}

// handshake commands a device in encrypted mode still takes in plain.
func plainAllowed(c bill.Command) bool {
	switch c {
	case bill.CmdSync, bill.CmdHostProtocol, bill.CmdSetupRequest, bill.CmdSetGenerator,
		bill.CmdSetModulus, bill.CmdRequestKeyExchange:
		return true
	}
	return false
}

// ackNeedsKey: ITL's command table marks POLL_WITH_ACK and EVENT_ACK
// "Requires encryption" (testdata/conformance/essp "poll_with_ack"), so a
// device refuses them in plain with KEY_NOT_SET even when the host does not
// use eSSP otherwise.
func ackNeedsKey(c bill.Command) bool { return c == bill.CmdPollWithAck || c == bill.CmdEventAck }

// handle answers one frame; nil means no answer (dropped or undecryptable).
func (s *Sim) handle(f bill.Frame) (reply []byte, unplug bool) {
	if f.ID != 0 || len(f.Data) == 0 {
		return nil, false
	}
	seq := 0
	if f.Seq {
		seq = 1
	}
	if seq == s.lastSeq && bytes.Equal(f.Data, s.lastCmd) && s.cached != nil {
		// The host did not get our answer: repeat it, do not act again.
		return s.cached, false
	}
	data := f.Data
	encrypted := false
	count := s.count
	if data[0] == bill.STEX {
		if s.cipher == nil {
			return s.frame(f.Seq, f.Data, []byte{byte(bill.RespKeyNotSet)}), false
		}
		d, n, err := s.cipher.Open(data)
		if err != nil || n != s.count || len(d) == 0 {
			s.log.Warn("sspsim: bad encrypted packet", "err", err, "count", n, "want", s.count)
			return nil, false
		}
		data, encrypted = d, true
		// Received and decrypted: the count steps, and the reply carries it.
		s.count++
		count = s.count
	}
	cmd := bill.Command(data[0])
	s.commands++
	s.expire()
	var r []byte
	if (s.opts.Encryption || ackNeedsKey(cmd)) && !encrypted && !plainAllowed(cmd) {
		r = []byte{byte(bill.RespKeyNotSet)}
	} else {
		r, unplug = s.command(cmd, data[1:], f.Seq)
		if unplug {
			return nil, true
		}
	}
	if encrypted {
		sealed, err := s.cipher.Seal(r, count)
		if err != nil {
			return nil, false
		}
		r = sealed
	}
	out := s.frame(f.Seq, f.Data, r)
	if cmd == bill.CmdRequestKeyExchange && s.pendingKey != 0 {
		s.cipher, _ = bill.NewCipher(s.opts.FixedKey, s.pendingKey, nil)
		s.count, s.pendingKey = 0, 0
	}
	if s.drop > 0 {
		s.drop--
		return nil, false
	}
	return out, false
}

func (s *Sim) frame(seq bool, cmd, data []byte) []byte {
	raw, err := bill.Frame{Seq: seq, ID: 0, Data: data}.Encode()
	if err != nil {
		return nil
	}
	s.lastSeq = 0
	if seq {
		s.lastSeq = 1
	}
	s.lastCmd = append([]byte(nil), cmd...)
	s.cached = raw
	return raw
}

var ok = []byte{byte(bill.RespOK)}

func (s *Sim) command(cmd bill.Command, arg []byte, seq bool) ([]byte, bool) {
	switch cmd {
	case bill.CmdSync:
		s.cipher, s.count = nil, 0
		if s.escrowCh > 0 && s.reported {
			// A host that lost us must hear about the held note again.
			s.reported = false
			s.events = append(s.events, bill.Event{Code: bill.EvRead, Channel: s.escrowCh})
		}
		return ok, false
	case bill.CmdHostProtocol:
		if len(arg) != 1 {
			return []byte{byte(bill.RespWrongParams)}, false
		}
		if arg[0] > s.opts.Protocol || arg[0] < 1 {
			return []byte{byte(bill.RespFail)}, false
		}
		s.proto = arg[0]
		return ok, false
	case bill.CmdSetupRequest:
		return bill.EncodeSetup(s.setup()), false
	case bill.CmdSetChannelInhibits:
		if len(arg) < 1 {
			return []byte{byte(bill.RespWrongParams)}, false
		}
		s.inhibits = uint16(arg[0])
		if len(arg) > 1 {
			s.inhibits |= uint16(arg[1]) << 8
		}
		return ok, false
	case bill.CmdEnable:
		s.enabled = true
		return ok, false
	case bill.CmdDisable:
		s.enabled = false
		return ok, false
	case bill.CmdPoll, bill.CmdPollWithAck:
		if cmd == bill.CmdPollWithAck && s.opts.Protocol < 7 {
			return []byte{byte(bill.RespUnknownCommand)}, false
		}
		s.maybeStack()
		evs := append(append([]bill.Event(nil), s.ackPending...), s.events...)
		for _, e := range s.events {
			if e.Code == bill.EvRead && e.Channel > 0 && e.Channel == s.escrowCh {
				s.reported = true
				s.lastHold = time.Now()
			}
		}
		r := bill.EncodeEvents(evs)
		if cmd == bill.CmdPoll {
			s.ackPending = nil
		} else {
			for _, e := range s.events {
				if needsAck(e.Code) {
					s.ackPending = append(s.ackPending, e)
				}
			}
		}
		s.events = nil
		return r, false
	case bill.CmdEventAck:
		if len(s.ackPending) == 0 {
			return []byte{byte(bill.RespCannotProcess)}, false
		}
		s.ackPending = nil
		return ok, false
	case bill.CmdHold:
		if s.escrowCh == 0 || !s.reported {
			return []byte{byte(bill.RespCannotProcess)}, false
		}
		if s.discInEscrow {
			s.discInEscrow = false
			return nil, true
		}
		s.lastHold = time.Now()
		return ok, false
	case bill.CmdReject:
		if s.escrowCh == 0 {
			return []byte{byte(bill.RespCannotProcess)}, false
		}
		s.returnNote()
		return ok, false
	case bill.CmdReset:
		s.reset()
		return ok, false
	case bill.CmdSetGenerator, bill.CmdSetModulus:
		if len(arg) != 8 {
			return []byte{byte(bill.RespWrongParams)}, false
		}
		v := binary.LittleEndian.Uint64(arg)
		// ITL: "The slave will reply with OK or PARAMETER_OUT_OF_RANGE if
		// the number is not prime." Firmware built on ITL's 64-bit
		// arithmetic (Random.h MAX_PRIME_NUMBER) cannot use a larger one.
		if v >= bill.KeyLimit || !bill.IsPrime(v) {
			return []byte{byte(bill.RespParamOutOfRange)}, false
		}
		if cmd == bill.CmdSetGenerator {
			s.generator = v
		} else {
			s.modulus = v
		}
		return ok, false
	case bill.CmdRequestKeyExchange:
		if len(arg) != 8 {
			return []byte{byte(bill.RespWrongParams)}, false
		}
		if s.generator == 0 || s.modulus == 0 {
			// ITL: "If Generator and Modulus are not set then the slave
			// will reply FAIL."
			return []byte{byte(bill.RespFail)}, false
		}
		kx, err := bill.NewKeyExchange(s.generator, s.modulus)
		if err != nil {
			return []byte{byte(bill.RespFail)}, false
		}
		s.pendingKey = kx.Key(binary.LittleEndian.Uint64(arg))
		if s.pendingKey == 0 {
			s.pendingKey = 1<<64 - 1 // never 0: 0 means "no key pending"
		}
		return append([]byte{byte(bill.RespOK)}, binary.LittleEndian.AppendUint64(nil, kx.Inter)...), false
	}
	return []byte{byte(bill.RespUnknownCommand)}, false
}

func (s *Sim) setup() bill.Setup {
	real := uint32(100)
	for _, v := range s.opts.Channels {
		if v%100 != 0 {
			real = 1
		}
	}
	st := bill.Setup{UnitType: 0, Firmware: s.opts.Firmware, Country: s.opts.Currency, ValueMultiplier: 1,
		RealMultiplier: real, Protocol: int(s.proto)}
	for i, v := range s.opts.Channels {
		st.Channels = append(st.Channels, bill.Channel{Number: i + 1, Value: v, Currency: s.opts.Currency, Security: 2})
	}
	return st
}

// needsAck: the events POLL_WITH_ACK repeats until EVENT_ACK (see
// testdata/conformance/essp "poll_with_ack").
func needsAck(c bill.EventCode) bool {
	return c == bill.EvCredit || c == bill.EvClearedFromFront || c == bill.EvClearedToCashbox
}

// maybeStack stacks a reported note: a poll after the escrow READ accepts it.
// ITL: no further note action while an event waits for EVENT_ACK.
func (s *Sim) maybeStack() {
	if s.escrowCh == 0 || !s.reported || len(s.ackPending) > 0 {
		return
	}
	ch := s.escrowCh
	s.escrowCh, s.reported = 0, false
	s.stacked = append(s.stacked, ch)
	s.events = append(s.events, bill.Event{Code: bill.EvStacking}, bill.Event{Code: bill.EvCredit, Channel: ch}, bill.Event{Code: bill.EvStacked})
}

// expire rejects a held note the host stopped holding.
func (s *Sim) expire() {
	if s.escrowCh > 0 && time.Since(s.lastHold) > s.opts.HoldTimeout {
		s.log.Info("sspsim: hold timeout: returning note", "channel", s.escrowCh)
		s.returnNote()
	}
}

func (s *Sim) returnNote() {
	s.escrowCh, s.reported = 0, false
	s.events = append(s.events, bill.Event{Code: bill.EvRejecting}, bill.Event{Code: bill.EvRejected})
}

func (s *Sim) reset() {
	evs := []bill.Event{{Code: bill.EvSlaveReset}}
	if s.escrowCh > 0 {
		evs = append(evs, bill.Event{Code: bill.EvClearedFromFront, Channel: s.escrowCh})
	}
	// Unacknowledged events survive: they are the device's record of money.
	s.events = append(s.events, evs...)
	s.escrowCh, s.reported = 0, false
	s.enabled, s.inhibits, s.proto = false, 0, 4
	s.cipher, s.count, s.pendingKey = nil, 0, 0
	s.lastSeq, s.lastCmd, s.cached = -1, nil, nil
}

// ErrNotAccepting is InsertNote's answer when the device would refuse the
// note: disabled, channel inhibited, or a note already in escrow.
var ErrNotAccepting = errors.New("sspsim: not accepting")

// InsertNote feeds a note of the given channel: it is read and held in escrow.
func (s *Sim) InsertNote(channel int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire()
	switch {
	case channel < 1 || channel > len(s.opts.Channels):
		return fmt.Errorf("sspsim: no channel %d", channel)
	case !s.enabled:
		return fmt.Errorf("%w: disabled", ErrNotAccepting)
	case s.inhibits&(1<<(channel-1)) == 0:
		return fmt.Errorf("%w: channel %d inhibited", ErrNotAccepting, channel)
	case s.escrowCh != 0:
		return fmt.Errorf("%w: a note is in escrow", ErrNotAccepting)
	case len(s.ackPending) > 0:
		return fmt.Errorf("%w: events wait for EVENT_ACK", ErrNotAccepting)
	}
	s.escrowCh, s.reported, s.lastHold = channel, false, time.Now()
	s.events = append(s.events, bill.Event{Code: bill.EvRead, Channel: 0}, bill.Event{Code: bill.EvRead, Channel: channel})
	return nil
}

// Reject makes the device give back the note in escrow (or refuse an
// unreadable note when none is held).
func (s *Sim) Reject() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.escrowCh == 0 {
		s.events = append(s.events, bill.Event{Code: bill.EvRead, Channel: 0})
	}
	s.returnNote()
}

// InjectEvent queues a raw event code with no data: a code ITL documents
// without data, or one of unknown length to test that a host never
// acknowledges a reply it did not fully understand.
func (s *Sim) InjectEvent(code byte) { s.push(bill.Event{Code: bill.EventCode(code)}) }

// Credit queues a CREDIT for a channel with no note in escrow, as a
// validator does after power-up for a note it finished stacking.
func (s *Sim) Credit(channel int) { s.push(bill.Event{Code: bill.EvCredit, Channel: channel}) }

// AckPending lists the events waiting for EVENT_ACK.
func (s *Sim) AckPending() []bill.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]bill.Event(nil), s.ackPending...)
}

// Jam reports an unsafe jam.
func (s *Sim) Jam() { s.push(bill.Event{Code: bill.EvUnsafeJam}) }

// StackerFull reports a full stacker.
func (s *Sim) StackerFull() { s.push(bill.Event{Code: bill.EvStackerFull}) }

// CashboxRemoved reports the cash box taken out.
func (s *Sim) CashboxRemoved() { s.push(bill.Event{Code: bill.EvCashboxRemoved}) }

func (s *Sim) push(e bill.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, e)
}

// ResetDevice is a power glitch: a held note is returned, the host must run
// its start-up (and key exchange) again.
func (s *Sim) ResetDevice() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reset()
}

// DisconnectInEscrow arms a fault: the next HOLD for a held note unplugs the
// device instead of answering. Reconnect plugs it back.
func (s *Sim) DisconnectInEscrow() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.discInEscrow = true
}

// DropReplies makes the device act on the next n commands but lose their
// replies, as a noisy line would.
func (s *Sim) DropReplies(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.drop += n
}

// Stacked lists the channels of the notes the device really stacked.
func (s *Sim) Stacked() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int(nil), s.stacked...)
}

// InEscrow is the channel of the note held, 0 for none.
func (s *Sim) InEscrow() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.escrowCh
}

// Enabled reports whether the host enabled the device.
func (s *Sim) Enabled() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.enabled
}

// Commands counts the commands the device acted on (repeats excluded).
func (s *Sim) Commands() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.commands
}

// makeRaw puts the pty in raw mode (cfmakeraw): no echo, no line editing,
// 8-bit bytes passed through.
func makeRaw(t *os.File) error {
	fd := int(t.Fd())
	tio, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return err
	}
	tio.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	tio.Oflag &^= unix.OPOST
	tio.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	tio.Cflag &^= unix.CSIZE | unix.PARENB
	tio.Cflag |= unix.CS8
	tio.Cc[unix.VMIN], tio.Cc[unix.VTIME] = 1, 0
	return unix.IoctlSetTermios(fd, unix.TCSETS, tio)
}
