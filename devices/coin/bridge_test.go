package coin

import (
	"slices"
	"testing"
)

// The decoders are pure: no timing. end() is where the gap's silence falls.
func TestBridgeDecoders(t *testing.T) {
	type step struct {
		in  string
		end bool
	}
	for _, tc := range []struct {
		enc   Encoding
		steps []step
		want  []bridgeItem
	}{
		{EncodingPulse, []step{{"UUUUU", true}, {"U", true}}, []bridgeItem{{count: 5}, {count: 1}}},
		// A reset banner, then a coin inside the same gap.
		{EncodingPulse, []step{{"Bridge ready\r\nUUU", true}}, []bridgeItem{{text: "Bridge ready"}, {count: 3}}},
		{EncodingPulse, []step{{"Bridge ready\r\n", true}}, []bridgeItem{{text: "Bridge ready"}}},
		// Raw pulse bytes that happen to be CR or LF still count.
		{EncodingPulse, []step{{"\n\n\n", true}}, []bridgeItem{{count: 3}}},
		{EncodingPulse, []step{{"\x01\x01\n\x01", true}}, []bridgeItem{{count: 4}}},
		// count_byte: 0x05 is five pulses (before, one); 10 and 13 are
		// counts, not line ends; a banner's CR LF is not a 10-pulse coin.
		{EncodingCountByte, []step{{"\x05\x0a\x0d\x01", false}}, []bridgeItem{{count: 5}, {count: 10}, {count: 13}, {count: 1}}},
		{EncodingCountByte, []step{{"Coin OK\r\n\x02", false}}, []bridgeItem{{text: "Coin OK"}, {count: 2}}},
		{EncodingCountByte, []step{{"\x00\x03", false}}, []bridgeItem{{count: 3}}},
		{EncodingCountByte, []step{{"half", true}}, []bridgeItem{{text: "half"}}},
		// count_line: only whole numbers 1..255 are coins.
		{EncodingCountLine, []step{{"5\r\n1", false}, {"0\n", false}}, []bridgeItem{{count: 5}, {count: 10}}},
		{EncodingCountLine, []step{{"Ready\n0\n256\n007\n-1\n 2 \n", false}}, []bridgeItem{{text: "Ready"}, {text: "0"}, {text: "256"}, {text: "007"}, {text: "-1"}, {count: 2}}},
		{EncodingCountLine, []step{{"3", true}}, []bridgeItem{{count: 3}}},
	} {
		d := newDecoder(tc.enc)
		var got []bridgeItem
		for _, s := range tc.steps {
			got = append(got, d.feed([]byte(s.in))...)
			if s.end {
				got = append(got, d.end()...)
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s %v: got %+v, want %+v", tc.enc, tc.steps, got, tc.want)
		}
		if d.pending() {
			t.Errorf("%s %v: bytes left pending", tc.enc, tc.steps)
		}
	}
	// A hostile bridge cannot grow memory: an endless line is cut.
	d := newDecoder(EncodingCountLine)
	for range 1000 {
		d.feed([]byte("xxxxxxxxxx"))
	}
	if got := d.feed([]byte("\n")); len(got) != 1 || len(got[0].text) > maxLine {
		t.Fatalf("long line: %+v", got)
	}
}
