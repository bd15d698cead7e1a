package devsim

import (
	"bytes"
	"testing"
	"time"

	"github.com/printroom/voucherkiosk/devices"
	"github.com/printroom/voucherkiosk/devices/conformance"
)

// The simulator answers with the vectors' bytes: an ACK with no data is
// 01 00 02 00 FD, after the echo of the request on a single wire and
// without it when echo is off.
func TestConformanceCCTalkSim(t *testing.T) {
	var v conformance.CCTalk
	if err := conformance.Load("cctalk", &v); err != nil {
		t.Fatal(err)
	}
	var ack []byte
	for _, f := range v.SimpleFrames {
		if f.Name == "ACK from the coin acceptor, no data" {
			ack = f.Wire
		}
	}
	if ack == nil {
		t.Fatal("vector missing")
	}
	poll := []byte{2, 0, 1, 254, 0xFF} // simple poll: 2+0+1+254+255 = 0 mod 256
	for _, echo := range []bool{true, false} {
		sim, err := NewCCTalk(t.TempDir(), map[int]string{1: "EU010A"})
		if err != nil {
			t.Fatal(err)
		}
		sim.SetEcho(echo)
		p, err := devices.OpenSerial(sim.Path(), devices.Mode{Baud: 9600})
		if err != nil {
			t.Fatal(err)
		}
		want := ack
		if echo {
			want = append(append([]byte(nil), poll...), ack...)
		}
		if _, err := p.Write(poll); err != nil {
			t.Fatal(err)
		}
		var got []byte
		buf := make([]byte, 64)
		deadline := time.Now().Add(10 * time.Second)
		for len(got) < len(want) && time.Now().Before(deadline) {
			p.SetReadTimeout(100 * time.Millisecond)
			n, err := p.Read(buf)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, buf[:n]...)
		}
		p.Close()
		sim.Close()
		if !bytes.Equal(got, want) {
			t.Errorf("echo %v: got % X, want % X", echo, got, want)
		}
	}
}
