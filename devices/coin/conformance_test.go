package coin

import (
	"bytes"
	"testing"

	"github.com/printroom/voucherkiosk/devices/conformance"
)

func TestConformanceCCTalkFrames(t *testing.T) {
	var v conformance.CCTalk
	if err := conformance.Load("cctalk", &v); err != nil {
		t.Fatal(err)
	}
	for _, f := range v.SimpleFrames {
		w := f.Wire
		fr, err := decodeFrame(w, false)
		if err != nil {
			t.Errorf("%s: decode % X: %v", f.Name, []byte(w), err)
			continue
		}
		if got := encodeFrame(fr.dest, fr.src, fr.header, fr.data, false); !bytes.Equal(got, w) {
			t.Errorf("%s: encode = % X, want % X", f.Name, got, []byte(w))
		}
	}
	for _, f := range v.CRC16Frames {
		got := encodeFrame(f.Dest, ccHostAddr, f.Header, f.Data, true)
		if !bytes.Equal(got, f.Wire) {
			t.Errorf("%s: encode = % X, want % X", f.Name, got, []byte(f.Wire))
		}
		if fr, err := decodeFrame(f.Wire, true); err != nil || fr.dest != f.Dest || fr.header != f.Header {
			t.Errorf("%s: decode % X = %+v, %v", f.Name, []byte(f.Wire), fr, err)
		}
	}
}
