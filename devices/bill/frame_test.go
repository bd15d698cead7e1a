package bill

import (
	"bytes"
	"errors"
	"testing"
)

func TestFrameEncodeGolden(t *testing.T) {
	tests := []struct {
		name string
		f    Frame
		want []byte
	}{
		// From ITL's HOST_PROTOCOL_VERSION examples.
		{"host protocol 8", Frame{Seq: true, Data: []byte{0x06, 0x08}}, []byte{0x7F, 0x80, 0x02, 0x06, 0x08, 0x03, 0x94}},
		{"ok reply", Frame{Seq: true, Data: []byte{0xF0}}, []byte{0x7F, 0x80, 0x01, 0xF0, 0x23, 0x80}},
		{"fail reply", Frame{Seq: true, Data: []byte{0xF8}}, []byte{0x7F, 0x80, 0x01, 0xF8, 0x10, 0x00}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.f.Encode()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tt.want) {
				t.Fatalf("Encode = % X, want % X", got, tt.want)
			}
			fs := new(Parser).Feed(got)
			if len(fs) != 1 || !bytes.Equal(fs[0].Data, tt.f.Data) || fs[0].Seq != tt.f.Seq {
				t.Fatalf("Parse = %v", fs)
			}
		})
	}
}

func TestFrameStuffingRoundTrip(t *testing.T) {
	data := []byte{0x7F, 0x01, 0x7F, 0x7F, 0x02}
	raw, err := Frame{ID: 0x7F & 0x7F, Data: data}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(raw[1:], []byte{0x7F, 0x7F}); n < 3 {
		t.Fatalf("expected stuffed 0x7F pairs in % X", raw)
	}
	fs := new(Parser).Feed(raw)
	if len(fs) != 1 || !bytes.Equal(fs[0].Data, data) {
		t.Fatalf("round trip: %v", fs)
	}
}

func TestParserResynchronises(t *testing.T) {
	good, _ := Frame{Seq: true, Data: []byte{0xF0, 0xEF, 0x02}}.Encode()
	corrupt := append([]byte(nil), good...)
	corrupt[4] ^= 0xFF
	tests := []struct {
		name   string
		stream []byte
		frames int
		minBad int
	}{
		{"garbage before", append([]byte{0x00, 0x13, 0xFF, 0x55}, good...), 1, 0},
		{"truncated then good", append(append([]byte(nil), good[:4]...), good...), 1, 1},
		{"bad crc then good", append(append([]byte(nil), corrupt...), good...), 1, 1},
		{"zero length", append([]byte{0x7F, 0x80, 0x00}, good...), 1, 1},
		{"two frames", append(append([]byte(nil), good...), good...), 2, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p Parser
			var fs []Frame
			for _, b := range tt.stream { // byte by byte, as a slow line delivers
				fs = append(fs, p.Feed([]byte{b})...)
			}
			if len(fs) != tt.frames || p.Bad < tt.minBad {
				t.Fatalf("frames %d (want %d), bad %d (want >= %d)", len(fs), tt.frames, p.Bad, tt.minBad)
			}
		})
	}
}

func TestFrameTooLong(t *testing.T) {
	if _, err := (Frame{Data: make([]byte, 256)}).Encode(); !errors.Is(err, ErrFrameTooLong) {
		t.Fatalf("err = %v", err)
	}
}

func TestParseEvents(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		want    []Event
		wantErr bool
	}{
		{"empty poll", []byte{0xF0}, nil, false},
		{"escrow", []byte{0xF0, 0xEF, 0x00, 0xEF, 0x03}, []Event{{EvRead, 0}, {EvRead, 3}}, false},
		{"credit", []byte{0xF0, 0xCC, 0xEE, 0x02, 0xEB}, []Event{{EvStacking, 0}, {EvCredit, 2}, {EvStacked, 0}}, false},
		{"missing channel", []byte{0xF0, 0xEE}, nil, true},
		{"unknown event", []byte{0xF0, 0xEB, 0x42, 0xEE, 0x01}, []Event{{EvStacked, 0}}, true},
		{"not ok", []byte{0xF5}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseEvents(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v", err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("got %v, want %v", got, tt.want)
				}
			}
		})
	}
}

func TestSetupRoundTrip(t *testing.T) {
	for _, proto := range []int{4, 6, 8} {
		in := Setup{Firmware: "0410", Country: "EUR", ValueMultiplier: 1, RealMultiplier: 100, Protocol: proto,
			Channels: []Channel{{1, 500, "EUR", 2}, {2, 1000, "EUR", 2}, {3, 20000, "EUR", 2}}}
		got, err := ParseSetup(EncodeSetup(in))
		if err != nil {
			t.Fatalf("protocol %d: %v", proto, err)
		}
		if got.Protocol != proto || got.Country != "EUR" || len(got.Channels) != 3 {
			t.Fatalf("protocol %d: %+v", proto, got)
		}
		for i, c := range got.Channels {
			if c != in.Channels[i] {
				t.Fatalf("protocol %d channel %d: %+v, want %+v", proto, i+1, c, in.Channels[i])
			}
		}
	}
	if _, err := ParseSetup([]byte{0xF0, 0, '0', '4', '1', '0', 'E', 'U', 'R', 0, 0, 1, 9}); err == nil {
		t.Fatal("short setup accepted")
	}
}

func TestCipherRoundTripAndTamper(t *testing.T) {
	a, _ := NewHostKeyExchange()
	b, err := NewKeyExchange(a.Generator, a.Modulus)
	if err != nil {
		t.Fatal(err)
	}
	if a.Key(b.Inter) != b.Key(a.Inter) {
		t.Fatal("Diffie-Hellman sides disagree")
	}
	c, _ := NewCipher(DefaultFixedKey, a.Key(b.Inter), nil)
	for _, n := range []int{0, 1, 9, 10, 11, 27, 200} {
		data := bytes.Repeat([]byte{0xA5}, n)
		sealed, err := c.Seal(data, 42)
		if err != nil {
			t.Fatalf("len %d: %v", n, err)
		}
		if (len(sealed)-1)%16 != 0 {
			t.Fatalf("len %d: sealed %d bytes", n, len(sealed))
		}
		got, cnt, err := c.Open(sealed)
		if err != nil || cnt != 42 || !bytes.Equal(got, data) {
			t.Fatalf("len %d: open = % X, %d, %v", n, got, cnt, err)
		}
		sealed[len(sealed)-1] ^= 1
		if _, _, err := c.Open(sealed); !errors.Is(err, ErrBadPayload) {
			t.Fatalf("len %d: tampered payload: err = %v", n, err)
		}
	}
	other, _ := NewCipher(DefaultFixedKey+1, a.Key(b.Inter), nil)
	sealed, _ := c.Seal([]byte{0x07}, 1)
	if _, _, err := other.Open(sealed); err == nil {
		t.Fatal("a wrong key opened the packet")
	}
}

func TestParseKeyHex(t *testing.T) {
	k, err := ParseKeyHex("0123456701234567")
	if err != nil || k != DefaultFixedKey {
		t.Fatalf("k = %x, err = %v", k, err)
	}
	for _, bad := range []string{"", "0123", "012345670123456G", "01234567012345678"} {
		if _, err := ParseKeyHex(bad); err == nil {
			t.Errorf("%q accepted", bad)
		} else if bad != "" && bytes.Contains([]byte(err.Error()), []byte(bad)) {
			t.Errorf("error echoes the key: %v", err)
		}
	}
}

func FuzzParser(f *testing.F) {
	good, _ := Frame{Seq: true, Data: []byte{0xF0, 0xEF, 0x7F}}.Encode()
	f.Add(good)
	f.Add([]byte{0x7F, 0x7F, 0x7F, 0x80, 0x01})
	f.Add([]byte{0x7F, 0x00, 0xFF, 0x01, 0x02, 0x7F, 0x80, 0x01, 0xF0, 0x23, 0x80})
	f.Fuzz(func(t *testing.T, b []byte) {
		var p Parser
		for _, fr := range p.Feed(b) {
			raw, err := fr.Encode()
			if err != nil {
				t.Fatalf("parsed frame does not encode: %v", err)
			}
			again := new(Parser).Feed(raw)
			if len(again) != 1 || !bytes.Equal(again[0].Data, fr.Data) {
				t.Fatalf("re-encoded frame does not parse back: % X", raw)
			}
			_, _ = ParseEvents(fr.Data)
			_, _ = ParseSetup(fr.Data)
		}
	})
}

func FuzzCipherOpen(f *testing.F) {
	c, _ := NewCipher(DefaultFixedKey, 0x1122334455667788, nil)
	sealed, _ := c.Seal([]byte{0xF0, 0xEE, 0x01}, 7)
	f.Add(sealed)
	f.Add([]byte{STEX})
	f.Add(append([]byte{STEX}, make([]byte, 32)...))
	f.Fuzz(func(t *testing.T, b []byte) {
		data, _, err := c.Open(b)
		if err == nil {
			if len(data) > len(b) {
				t.Fatalf("opened %d bytes out of %d", len(data), len(b))
			}
		}
	})
}

func BenchmarkFrameRoundTrip(b *testing.B) {
	f := Frame{Seq: true, Data: []byte{0xF0, 0xCC, 0xEE, 0x02, 0xEB, 0x7F}}
	var p Parser
	n := 0
	for b.Loop() {
		raw, _ := f.Encode()
		n += len(p.Feed(raw))
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/frame")
	_ = n
}

func BenchmarkSealOpen(b *testing.B) {
	c, _ := NewCipher(DefaultFixedKey, 0x1122334455667788, nil)
	data := []byte{0xF0, 0xCC, 0xEE, 0x02, 0xEB}
	for b.Loop() {
		s, _ := c.Seal(data, 1)
		if _, _, err := c.Open(s); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/packet")
}

func BenchmarkKeyExchange(b *testing.B) {
	for b.Loop() {
		h, _ := NewHostKeyExchange()
		s, _ := NewKeyExchange(h.Generator, h.Modulus)
		_ = h.Key(s.Inter)
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/exchange")
}
