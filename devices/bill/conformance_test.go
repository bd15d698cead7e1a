package bill

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/printroom/voucherkiosk/devices/conformance"
)

func loadESSP(t *testing.T) conformance.ESSP {
	t.Helper()
	var v conformance.ESSP
	if err := conformance.Load("essp", &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestConformanceCRCAndFrames(t *testing.T) {
	v := loadESSP(t)
	for _, c := range v.CRC16 {
		got := CRC16(c.Data)
		if want := uint16(c.CRC[0]) | uint16(c.CRC[1])<<8; got != want {
			t.Errorf("CRC16(% X) = %04X, want %04X (%s)", []byte(c.Data), got, want, c.Source)
		}
	}
	for _, f := range v.Frames {
		raw, err := Frame{Seq: f.Seq, ID: f.ID, Data: f.Data}.Encode()
		if err != nil || !bytes.Equal(raw, f.Wire) {
			t.Errorf("%s: encode = % X, %v; want % X (%s)", f.Name, raw, err, []byte(f.Wire), f.Source)
		}
		var p Parser
		got := p.Feed(f.Wire)
		if len(got) != 1 || got[0].Seq != f.Seq || got[0].ID != f.ID || !bytes.Equal(got[0].Data, f.Data) {
			t.Errorf("%s: parse % X = %v", f.Name, []byte(f.Wire), got)
		}
	}
	for _, k := range v.KeyEncoding {
		if got := le64(k.Value); !bytes.Equal(got, k.Bytes) {
			t.Errorf("%02X %d: % X, want % X", []byte(k.Command), k.Value, got, []byte(k.Bytes))
		}
	}
}

// fixedPadding hands Seal the vector's packing bytes.
type fixedPadding struct{ r io.Reader }

func (f fixedPadding) Read(b []byte) (int, error) { return f.r.Read(b) }

func TestConformanceSealAndOpen(t *testing.T) {
	v := loadESSP(t)
	for _, s := range v.Seals {
		fixed, err := ParseKeyHex(s.FixedKey)
		if err != nil {
			t.Fatal(err)
		}
		if got := aesKey(fixed, s.Negotiated); !bytes.Equal(got[:], s.AESKey) {
			t.Errorf("key(%s, %d) = % X, want % X", s.FixedKey, s.Negotiated, got, []byte(s.AESKey))
		}
		c, err := NewCipher(fixed, s.Negotiated, fixedPadding{bytes.NewReader(s.Padding)})
		if err != nil {
			t.Fatal(err)
		}
		sealed, err := c.Seal(s.Data, s.Count)
		if err != nil || !bytes.Equal(sealed, s.Sealed) {
			t.Errorf("Seal(% X, %d) = % X, %v; want % X", []byte(s.Data), s.Count, sealed, err, []byte(s.Sealed))
		}
		data, n, err := c.Open(s.Sealed)
		if err != nil || n != s.Count || !bytes.Equal(data, s.Data) {
			t.Errorf("Open(% X) = % X, %d, %v; want % X, %d", []byte(s.Sealed), data, n, err, []byte(s.Data), s.Count)
		}
	}
}

func TestConformanceKeyExchange(t *testing.T) {
	v := loadESSP(t)
	for _, k := range v.KeyExchange {
		host, err := newKeyExchange(k.Generator, k.Modulus, k.HostSecret)
		if err != nil {
			t.Fatal(err)
		}
		slave, err := newKeyExchange(k.Generator, k.Modulus, k.SlaveSecret)
		if err != nil {
			t.Fatal(err)
		}
		if host.Inter != k.HostInter || slave.Inter != k.SlaveInter {
			t.Errorf("inter = %d, %d; want %d, %d", host.Inter, slave.Inter, k.HostInter, k.SlaveInter)
		}
		if a, b := host.Key(slave.Inter), slave.Key(host.Inter); a != k.Key || b != k.Key {
			t.Errorf("key = %d, %d; want %d", a, b, k.Key)
		}
	}
	lim := v.KeyLimits
	for range 50 {
		kx, err := NewHostKeyExchange()
		if err != nil {
			t.Fatal(err)
		}
		if kx.Generator >= lim.MaxExclusive || kx.Modulus >= lim.MaxExclusive || kx.secret >= lim.MaxExclusive || kx.Inter >= lim.MaxExclusive {
			t.Fatalf("host numbers beyond ITL's limit %d: g %d p %d secret %d", lim.MaxExclusive, kx.Generator, kx.Modulus, kx.secret)
		}
		if lim.GeneratorBelowModulus && kx.Generator >= kx.Modulus {
			t.Fatalf("generator %d not below modulus %d", kx.Generator, kx.Modulus)
		}
	}
}

func TestConformanceEvents(t *testing.T) {
	v := loadESSP(t)
	for _, seq := range v.EventSequences {
		for i, r := range seq.Replies {
			evs, err := ParseEvents(r)
			if err != nil {
				t.Errorf("%s: reply % X: %v", seq.Name, []byte(r), err)
			}
			if got := eventStrings(evs); !slices.Equal(got, seq.Events[i]) {
				t.Errorf("%s: reply % X = %v, want %v", seq.Name, []byte(r), got, seq.Events[i])
			}
		}
	}
	for _, u := range v.UnknownEvents {
		evs, err := ParseEvents(u.Reply)
		if got := eventStrings(evs); !slices.Equal(got, u.ParsedPrefix) {
			t.Errorf("% X: parsed %v, want %v", []byte(u.Reply), got, u.ParsedPrefix)
		}
		if (err == nil) != u.Complete {
			t.Errorf("% X: err %v, want complete=%v", []byte(u.Reply), err, u.Complete)
		}
	}
	for _, c := range v.EventLengths.WithChannelByte {
		if !EventCode(c[0]).hasChannel() {
			t.Errorf("event %02X carries a channel byte", c[0])
		}
	}
	for _, c := range v.EventLengths.NoData {
		if evs, err := ParseEvents([]byte{byte(RespOK), c[0], byte(EvStacked)}); err != nil || len(evs) != 2 {
			t.Errorf("event %02X has no data: parsed %v, %v", c[0], evs, err)
		}
	}
	var want []EventCode
	for _, c := range v.PollWithAck.RepeatUntilAck {
		want = append(want, EventCode(c[0]))
	}
	for c := range 256 {
		if got := EventCode(c).needsAck(); got != slices.Contains(want, EventCode(c)) {
			t.Errorf("%s needsAck = %v", EventCode(c), got)
		}
	}
}

func eventStrings(evs []Event) []string {
	out := []string{}
	for _, e := range evs {
		out = append(out, e.String())
	}
	return out
}

// scriptedSlave is a device built to ITL's counting rule: it checks the
// command's eCOUNT and seals its reply with the count of the vector.
type scriptedSlave struct {
	t        *testing.T
	c        *Cipher
	steps    []struct{ CommandCount, ReplyCount uint32 }
	parser   Parser
	out      bytes.Buffer
	failures []string
}

func (s *scriptedSlave) Write(b []byte) (int, error) {
	for _, f := range s.parser.Feed(b) {
		if len(s.steps) == 0 {
			s.failures = append(s.failures, "command after the script")
			continue
		}
		step := s.steps[0]
		s.steps = s.steps[1:]
		_, n, err := s.c.Open(f.Data)
		if err != nil || n != step.CommandCount {
			s.failures = append(s.failures, fmt.Sprintf("command count %d (%v), want %d", n, err, step.CommandCount))
		}
		r, _ := s.c.Seal([]byte{byte(RespOK)}, step.ReplyCount)
		raw, _ := Frame{Seq: f.Seq, ID: f.ID, Data: r}.Encode()
		s.out.Write(raw)
	}
	return len(b), nil
}

func (s *scriptedSlave) Read(b []byte) (int, error) {
	if s.out.Len() == 0 {
		return 0, nil
	}
	return s.out.Read(b)
}
func (s *scriptedSlave) Close() error                       { return nil }
func (s *scriptedSlave) SetReadTimeout(time.Duration) error { return nil }
func (s *scriptedSlave) ResetInputBuffer() error            { return nil }

// TestConformanceCounterDriver: the driver talks to a device that counts as
// ITL's hosts expect. Before the fix the first command failed with
// "encryption counter mismatch: got 1, want 0".
func TestConformanceCounterDriver(t *testing.T) {
	v := loadESSP(t)
	c, err := NewCipher(DefaultFixedKey, 12345, nil)
	if err != nil {
		t.Fatal(err)
	}
	dev := &scriptedSlave{t: t, c: c}
	for _, e := range v.Counter.Exchanges {
		dev.steps = append(dev.steps, struct{ CommandCount, ReplyCount uint32 }{e.CommandCount, e.ReplyCount})
	}
	l := &link{p: dev, cipher: c, timeout: 50 * time.Millisecond, log: func(string, ...any) {}}
	for i := range v.Counter.Exchanges {
		if _, err := l.do(context.Background(), []byte{byte(CmdPoll)}); err != nil {
			t.Fatalf("exchange %d: %v (rule: %s)", i, err, v.Counter.Rule)
		}
	}
	if len(dev.failures) > 0 {
		t.Fatal(strings.Join(dev.failures, "; "))
	}
	// A reply sealed with the command's own count is refused.
	bad := &scriptedSlave{t: t, c: c, steps: []struct{ CommandCount, ReplyCount uint32 }{{0, 0}}}
	l = &link{p: bad, cipher: c, timeout: 50 * time.Millisecond, log: func(string, ...any) {}}
	if _, err := l.do(context.Background(), []byte{byte(CmdPoll)}); !errors.Is(err, ErrCounter) {
		t.Fatalf("reply with the command's count: err %v, want ErrCounter", err)
	}
}

func aesKey(fixed, negotiated uint64) [16]byte {
	var k [16]byte
	binary.LittleEndian.PutUint64(k[:8], fixed)
	binary.LittleEndian.PutUint64(k[8:], negotiated)
	return k
}
