package sspsim

import (
	"bytes"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/printroom/voucherkiosk/devices"
	"github.com/printroom/voucherkiosk/devices/bill"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// exchange sends one raw frame over the real serial stack and reads a reply.
func exchange(t *testing.T, p devices.Port, f bill.Frame) (bill.Frame, bool) {
	t.Helper()
	raw, _ := f.Encode()
	if _, err := p.Write(raw); err != nil {
		t.Fatal(err)
	}
	var ps bill.Parser
	buf := make([]byte, 256)
	deadline := time.Now().Add(500 * time.Millisecond)
	for time.Now().Before(deadline) {
		p.SetReadTimeout(50 * time.Millisecond)
		n, err := p.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		if fs := ps.Feed(buf[:n]); len(fs) > 0 {
			return fs[0], true
		}
	}
	return bill.Frame{}, false
}

func TestRepeatedSequenceAnsweredOnce(t *testing.T) {
	s, err := New(t.TempDir(), Options{Channels: []int64{500, 1000}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p, err := devices.OpenSerial(s.Path(), bill.Mode)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if r, ok := exchange(t, p, bill.Frame{Seq: true, Data: []byte{byte(bill.CmdSync)}}); !ok || r.Data[0] != byte(bill.RespOK) {
		t.Fatalf("SYNC: %v %v", r, ok)
	}
	s.DropReplies(1)
	if _, ok := exchange(t, p, bill.Frame{Seq: false, Data: []byte{byte(bill.CmdEnable)}}); ok {
		t.Fatal("dropped reply arrived")
	}
	before := s.Commands()
	r, ok := exchange(t, p, bill.Frame{Seq: false, Data: []byte{byte(bill.CmdEnable)}})
	if !ok || !bytes.Equal(r.Data, []byte{byte(bill.RespOK)}) || s.Commands() != before {
		t.Fatalf("repeat: %v %v, commands %d -> %d", r, ok, before, s.Commands())
	}
	if !s.Enabled() {
		t.Fatal("ENABLE not applied")
	}
}

func TestDisconnectReconnectKeepsPath(t *testing.T) {
	s, err := New(t.TempDir(), Options{Channels: []int64{500}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	first, _ := os.Readlink(s.Path())
	s.Disconnect()
	if _, err := os.Stat(s.Path()); !os.IsNotExist(err) {
		t.Fatalf("path still there after Disconnect: %v", err)
	}
	if err := s.Reconnect(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.Path()); err != nil {
		t.Fatalf("path missing after Reconnect: %v (was %s)", err, first)
	}
}

func TestHoldTimeoutReturnsNote(t *testing.T) {
	s, err := New(t.TempDir(), Options{Channels: []int64{500}, HoldTimeout: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.mu.Lock()
	s.enabled, s.inhibits = true, 1
	s.mu.Unlock()
	if err := s.InsertNote(1); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond)
	s.mu.Lock()
	s.expire()
	evs := s.events
	s.mu.Unlock()
	if s.InEscrow() != 0 || evs[len(evs)-1].Code != bill.EvRejected || len(s.Stacked()) != 0 {
		t.Fatalf("escrow %d, events %v", s.InEscrow(), evs)
	}
}
