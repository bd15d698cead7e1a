package sspsim

import (
	"bytes"
	"encoding/binary"
	"slices"
	"testing"

	"github.com/printroom/voucherkiosk/devices"
	"github.com/printroom/voucherkiosk/devices/bill"
	"github.com/printroom/voucherkiosk/devices/conformance"
)

// host is a minimal hand-driven host for conformance: raw frames over the
// real pty, sequence flag alternating, optional encryption.
type host struct {
	t      *testing.T
	p      devices.Port
	seq    bool
	cipher *bill.Cipher
	count  uint32
}

func newHost(t *testing.T, s *Sim) *host {
	t.Helper()
	p, err := devices.OpenSerial(s.Path(), bill.Mode)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	h := &host{t: t, p: p, seq: true}
	if r := h.do(byte(bill.CmdSync)); r[0] != byte(bill.RespOK) {
		t.Fatalf("SYNC: % X", r)
	}
	return h
}

// raw sends data as it is and returns the reply frame's data (nil: none).
func (h *host) raw(data []byte) []byte {
	h.t.Helper()
	r, ok := exchange(h.t, h.p, bill.Frame{Seq: h.seq, Data: data})
	if !ok {
		return nil
	}
	h.seq = !h.seq
	return r.Data
}

func (h *host) do(cmd ...byte) []byte {
	h.t.Helper()
	if h.cipher == nil {
		r := h.raw(cmd)
		if r == nil {
			h.t.Fatalf("command % X: no reply", cmd)
		}
		return r
	}
	sealed, err := h.cipher.Seal(cmd, h.count)
	if err != nil {
		h.t.Fatal(err)
	}
	h.count++
	r := h.raw(sealed)
	if r == nil {
		h.t.Fatalf("command % X (count %d): no reply", cmd, h.count-1)
	}
	d, n, err := h.cipher.Open(r)
	if err != nil {
		h.t.Fatalf("reply to % X: %v", cmd, err)
	}
	if n != h.count {
		h.t.Fatalf("reply to % X carries count %d, want %d (command count + 1, as ITL's host requires)", cmd, n, h.count)
	}
	return d
}

// keyExchange negotiates eSSP as ITL's host does and encrypts from then on.
func (h *host) keyExchange() {
	h.t.Helper()
	kx, err := bill.NewHostKeyExchange()
	if err != nil {
		h.t.Fatal(err)
	}
	for _, c := range [][]byte{key(bill.CmdSetGenerator, kx.Generator), key(bill.CmdSetModulus, kx.Modulus)} {
		if r := h.do(c...); r[0] != byte(bill.RespOK) {
			h.t.Fatalf("% X: % X", c, r)
		}
	}
	r := h.do(key(bill.CmdRequestKeyExchange, kx.Inter)...)
	if len(r) != 9 || r[0] != byte(bill.RespOK) {
		h.t.Fatalf("REQUEST_KEY_EXCHANGE: % X", r)
	}
	h.cipher, err = bill.NewCipher(bill.DefaultFixedKey, kx.Key(binary.LittleEndian.Uint64(r[1:])), nil)
	if err != nil {
		h.t.Fatal(err)
	}
	h.count = 0
}

func key(cmd bill.Command, v uint64) []byte {
	return binary.LittleEndian.AppendUint64([]byte{byte(cmd)}, v)
}

func loadESSP(t *testing.T) conformance.ESSP {
	t.Helper()
	var v conformance.ESSP
	if err := conformance.Load("essp", &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func newConfSim(t *testing.T, enc bool) *Sim {
	t.Helper()
	s, err := New(t.TempDir(), Options{Channels: []int64{500, 1000}, Encryption: enc})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// The simulator refuses what ITL's firmware refuses, with ITL's answers.
func TestConformanceSimRefuses(t *testing.T) {
	v := loadESSP(t)
	for _, r := range v.SlaveRefuses {
		h := newHost(t, newConfSim(t, true))
		got := h.do(key(bill.Command(r.Command[0]), r.Value)...)
		if !bytes.Equal(got, r.Reply) {
			t.Errorf("%02X %d (%s): reply % X, want % X", r.Command[0], r.Value, r.Why, got, []byte(r.Reply))
		}
	}
}

// Key exchange and counting against the vectors: the reply carries the
// command's count plus one; a command with a stale count is not answered.
func TestConformanceSimCounter(t *testing.T) {
	v := loadESSP(t)
	k := v.KeyExchange[0]
	s := newConfSim(t, true)
	h := newHost(t, s)
	// Either order of generator and modulus is taken (ITL's host sends the
	// smaller as generator, the Node host the larger).
	for _, c := range [][]byte{key(bill.CmdSetGenerator, k.Modulus), key(bill.CmdSetModulus, k.Generator),
		key(bill.CmdSetGenerator, k.Generator), key(bill.CmdSetModulus, k.Modulus)} {
		if r := h.do(c...); r[0] != byte(bill.RespOK) {
			t.Fatalf("% X: % X", c, r)
		}
	}
	kx, err := bill.NewKeyExchange(k.Generator, k.Modulus)
	if err != nil {
		t.Fatal(err)
	}
	r := h.do(key(bill.CmdRequestKeyExchange, kx.Inter)...)
	if len(r) != 9 || r[0] != byte(bill.RespOK) {
		t.Fatalf("REQUEST_KEY_EXCHANGE: % X", r)
	}
	h.cipher, err = bill.NewCipher(bill.DefaultFixedKey, kx.Key(binary.LittleEndian.Uint64(r[1:])), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range v.Counter.Exchanges {
		if h.count != e.CommandCount {
			t.Fatalf("host count %d, vector %d", h.count, e.CommandCount)
		}
		if r := h.do(byte(bill.CmdPoll)); r[0] != byte(bill.RespOK) {
			t.Fatalf("POLL: % X", r)
		}
	}
	stale, _ := h.cipher.Seal([]byte{byte(bill.CmdPoll)}, h.count-1)
	if r := h.raw(stale); r != nil {
		t.Fatalf("stale count answered: % X", r)
	}
}

// POLL_WITH_ACK repeats only the events that need EVENT_ACK, and (with
// encryption on) is refused in plain.
func TestConformanceSimPollWithAck(t *testing.T) {
	v := loadESSP(t)
	if v.PollWithAck.Encrypted {
		h := newHost(t, newConfSim(t, true))
		if r := h.do(byte(bill.CmdPollWithAck)); r[0] != byte(bill.RespKeyNotSet) {
			t.Fatalf("plain POLL_WITH_ACK in encrypted mode: % X, want KEY_NOT_SET", r)
		}
	}
	s := newConfSim(t, false)
	h := newHost(t, s)
	if r := h.do(byte(bill.CmdPollWithAck)); r[0] != byte(bill.RespKeyNotSet) {
		t.Fatalf("plain POLL_WITH_ACK: % X, want KEY_NOT_SET (ITL: requires encryption)", r)
	}
	h.keyExchange()
	if r := h.do(byte(bill.CmdHostProtocol), 8); r[0] != byte(bill.RespOK) {
		t.Fatalf("protocol 8: % X", r)
	}
	s.Credit(2)
	s.Jam()
	s.InjectEvent(0xE5)
	first, err := bill.ParseEvents(h.do(byte(bill.CmdPollWithAck)))
	if err != nil || len(first) != 3 {
		t.Fatalf("first POLL_WITH_ACK: %v, %v", first, err)
	}
	var want []bill.Event
	for _, e := range first {
		for _, c := range v.PollWithAck.RepeatUntilAck {
			if byte(e.Code) == c[0] {
				want = append(want, e)
			}
		}
	}
	again, err := bill.ParseEvents(h.do(byte(bill.CmdPollWithAck)))
	if err != nil || !slices.Equal(again, want) {
		t.Fatalf("repeat: %v, %v; want only %v", again, err, want)
	}
	if r := h.do(byte(bill.CmdEventAck)); r[0] != byte(bill.RespOK) {
		t.Fatalf("EVENT_ACK: % X", r)
	}
	if evs, err := bill.ParseEvents(h.do(byte(bill.CmdPollWithAck))); err != nil || len(evs) != 0 {
		t.Fatalf("after EVENT_ACK: %v, %v", evs, err)
	}
}
