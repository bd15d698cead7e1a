package coin

import (
	"bytes"
	"testing"
)

func TestFrameRoundTrip(t *testing.T) {
	for _, crc := range []bool{false, true} {
		f := encodeFrame(2, 1, hdrSetInhibits, []byte{0xFF, 0x7F}, crc)
		got, err := decodeFrame(f, crc)
		if err != nil {
			t.Fatalf("crc=%v: %v", crc, err)
		}
		if got.dest != 2 || got.header != hdrSetInhibits || !bytes.Equal(got.data, []byte{0xFF, 0x7F}) {
			t.Fatalf("crc=%v: decoded %+v", crc, got)
		}
		f[4] ^= 1
		if _, err := decodeFrame(f, crc); err == nil {
			t.Fatalf("crc=%v: corrupted frame accepted", crc)
		}
	}
	// The simple poll from the ccTalk specification: 2 0 1 254 255.
	if f := encodeFrame(2, 1, 254, nil, false); !bytes.Equal(f, []byte{2, 0, 1, 254, 255}) {
		t.Fatalf("simple poll = % x", f)
	}
}

func TestPlanCredits(t *testing.T) {
	ev := func(pairs ...byte) []byte { // counter then A,B pairs newest first
		d := make([]byte, 11)
		copy(d, pairs)
		return d
	}
	tests := []struct {
		name   string
		data   []byte
		last   int
		reset  bool
		lost   int
		events []creditEvent
		after  int
	}{
		{"nothing new", ev(7, 3, 1), 7, false, 0, nil, 7},
		{"idle after reset", ev(0), 0, false, 0, nil, 0},
		{"one coin", ev(1, 3, 1), 0, false, 0, []creditEvent{{3, 1, 1}}, 1},
		{"two, oldest first", ev(9, 4, 1, 3, 1), 7, false, 0, []creditEvent{{3, 1, 8}, {4, 1, 9}}, 9},
		{"wrap 255 to 1", ev(2, 5, 1, 6, 1, 7, 1), 254, false, 0, []creditEvent{{7, 1, 255}, {6, 1, 1}, {5, 1, 2}}, 2},
		{"error event", ev(10, 0, 14), 9, false, 0, []creditEvent{{0, 14, 10}}, 10},
		{"lost events", ev(15, 1, 1, 2, 1, 3, 1, 4, 1, 5, 1), 7, false, 3,
			[]creditEvent{{5, 1, 11}, {4, 1, 12}, {3, 1, 13}, {2, 1, 14}, {1, 1, 15}}, 15},
		{"reset", ev(0), 42, true, 0, nil, 0},
	}
	for _, tt := range tests {
		p, err := planCredits(tt.data, tt.last)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if p.Reset != tt.reset || p.Lost != tt.lost || p.Last != tt.after || len(p.Events) != len(tt.events) {
			t.Fatalf("%s: got %+v", tt.name, p)
		}
		for i := range p.Events {
			if p.Events[i] != tt.events[i] {
				t.Errorf("%s: event %d = %+v, want %+v", tt.name, i, p.Events[i], tt.events[i])
			}
		}
	}
	if _, err := planCredits([]byte{1, 2}, 0); err == nil {
		t.Error("short reply accepted")
	}
}

func TestClassifyCCError(t *testing.T) {
	for _, tt := range []struct {
		code byte
		want string
	}{{1, "coin rejected"}, {14, "sensor blocked"}, {17, "fraud attempt"}, {130, "coin rejected"}, {99, "fault"}, {254, "fault"}} {
		if st, _ := classifyCCError(tt.code); st.String() != tt.want {
			t.Errorf("code %d: %s, want %s", tt.code, st, tt.want)
		}
	}
}

func FuzzDecodeFrame(f *testing.F) {
	f.Add([]byte{1, 0, 2, 0, 253}, false)
	f.Add(encodeFrame(1, 2, 0, []byte("SIM"), true), true)
	f.Fuzz(func(t *testing.T, b []byte, crc bool) {
		fr, err := decodeFrame(b, crc)
		if err != nil {
			return
		}
		src := fr.src
		if crc {
			src = 0
		}
		if again := encodeFrame(fr.dest, src, fr.header, fr.data, crc); !crc && !bytes.Equal(again, b) {
			t.Fatalf("re-encoded % x, was % x", again, b)
		}
	})
}

func FuzzPlanCredits(f *testing.F) {
	f.Add([]byte{9, 4, 1, 3, 1, 0, 0, 0, 0, 0, 0}, 7)
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 200)
	f.Fuzz(func(t *testing.T, d []byte, last int) {
		p, err := planCredits(d, last)
		if err != nil {
			return
		}
		if len(p.Events) > 5 || p.Lost < 0 || p.Last < 0 || p.Last > 255 {
			t.Fatalf("plan %+v", p)
		}
		for i, e := range p.Events {
			if e.Counter < 1 || e.Counter > 255 {
				t.Fatalf("counter %d", e.Counter)
			}
			if i == len(p.Events)-1 && e.Counter != p.Last {
				t.Fatalf("last event counter %d != %d", e.Counter, p.Last)
			}
		}
	})
}
