package devsim

import (
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/printroom/voucherkiosk/devices"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Reconnect must make a new pty appear at the same path, and the old one
// must be gone.
func TestReconnectMovesLink(t *testing.T) {
	dir := t.TempDir()
	sim, err := NewRDM6300(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	first, err := os.Readlink(sim.Path())
	if err != nil {
		t.Fatal(err)
	}
	p, err := devices.OpenSerial(sim.Path(), devices.Mode{Baud: 9600})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	sim.Disconnect()
	if _, err := os.Lstat(sim.Path()); !os.IsNotExist(err) {
		t.Fatalf("link still there after Disconnect: %v", err)
	}
	p.SetReadTimeout(5 * time.Second)
	if _, err := p.Read(make([]byte, 8)); err == nil || !devices.IsPortGone(err) {
		t.Fatalf("read on a vanished pty: %v, want a port-gone error", err)
	}
	if err := sim.Reconnect(); err != nil {
		t.Fatal(err)
	}
	second, err := os.Readlink(sim.Path())
	if err != nil || second == first {
		t.Fatalf("after Reconnect link = %q (%v), was %q", second, err, first)
	}
	p2, err := devices.OpenSerial(sim.Path(), devices.Mode{Baud: 9600})
	if err != nil {
		t.Fatal(err)
	}
	defer p2.Close()
	go sim.TapCard("100086F444")
	buf := make([]byte, 14)
	p2.SetReadTimeout(5 * time.Second)
	n := 0
	for n < 14 {
		k, err := p2.Read(buf[n:])
		if err != nil || k == 0 {
			t.Fatalf("read %d bytes: %v", n, err)
		}
		n += k
	}
	if string(buf[1:13]) != "100086F44426" {
		t.Fatalf("frame % x", buf)
	}
	time.Sleep(300 * time.Millisecond) // let TapCard finish its repeats
}

func TestCloseRemovesTempDir(t *testing.T) {
	sim, err := NewCCTalk("", map[int]string{1: "EU100A"})
	if err != nil {
		t.Fatal(err)
	}
	path := sim.Path()
	if err := sim.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(path); !os.IsNotExist(err) {
		t.Fatalf("link left behind: %v", err)
	}
	if err := sim.Reconnect(); err != ErrClosed {
		t.Fatalf("Reconnect after Close = %v", err)
	}
}

func TestRDM6300FrameChecksum(t *testing.T) {
	f, err := RDM6300Frame("100086F444")
	if err != nil || string(f[1:13]) != "100086F44426" {
		t.Fatalf("frame %q %v", f, err)
	}
	if _, err := RDM6300Frame("12345"); err == nil {
		t.Fatal("short id accepted")
	}
}
