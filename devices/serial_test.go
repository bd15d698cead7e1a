package devices_test

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/printroom/voucherkiosk/devices"
	"github.com/printroom/voucherkiosk/devices/devsim"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestOpenSerialMissingPath(t *testing.T) {
	_, err := devices.OpenSerial("/dev/does-not-exist-kiosk", devices.Mode{Baud: 9600})
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err = %v, want fs.ErrNotExist", err)
	}
}

// Keep reports the port's life and runs a new session on the new pty that
// appears at the same path.
func TestKeepReconnects(t *testing.T) {
	sim, err := devsim.NewLineReader(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	var mu sync.Mutex
	var statuses []devices.Status
	sessions := 0
	got := make(chan string, 10)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- devices.Keep(ctx, devices.KeepConfig{Device: "card", Path: sim.Path(), Mode: devices.Mode{Baud: 9600},
			Retry: 50 * time.Millisecond,
			Status: func(s devices.StatusChange) {
				mu.Lock()
				statuses = append(statuses, s.Status)
				mu.Unlock()
			}}, func(ctx context.Context, p devices.Port) error {
			mu.Lock()
			sessions++
			mu.Unlock()
			buf := make([]byte, 64)
			for {
				n, err := p.Read(buf)
				if err != nil {
					return err
				}
				if n > 0 {
					got <- string(buf[:n])
				}
			}
		})
	}()
	recv := func() string {
		select {
		case s := <-got:
			return s
		case <-time.After(10 * time.Second):
			t.Fatal("nothing received")
			return ""
		}
	}
	waitSessions := func(n int) {
		deadline := time.Now().Add(10 * time.Second)
		for {
			mu.Lock()
			s := sessions
			mu.Unlock()
			if s >= n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("waiting for session %d", n)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitSessions(1)
	sim.TapCard("1")
	if s := recv(); s != "1\r\n" {
		t.Fatalf("got %q", s)
	}
	sim.Disconnect()
	time.Sleep(200 * time.Millisecond) // a few failed reopen attempts
	if err := sim.Reconnect(); err != nil {
		t.Fatal(err)
	}
	waitSessions(2)
	sim.TapCard("2")
	if s := recv(); s != "2\r\n" {
		t.Fatalf("got %q", s)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Keep returned %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	want := []devices.Status{devices.StatusConnected, devices.StatusDisconnected, devices.StatusConnected}
	if len(statuses) != len(want) {
		t.Fatalf("statuses %v, want %v (a failing reopen must not repeat Disconnected)", statuses, want)
	}
	for i := range want {
		if statuses[i] != want[i] {
			t.Fatalf("statuses %v, want %v", statuses, want)
		}
	}
}

func TestIsPortGone(t *testing.T) {
	if !devices.IsPortGone(io.EOF) || devices.IsPortGone(errors.New("checksum")) {
		t.Fatal("IsPortGone misclassifies")
	}
}

func TestMaskCard(t *testing.T) {
	for in, want := range map[string]string{"0008844356": "******4356", "123": "***", "": ""} {
		if got := devices.MaskCard(in); got != want {
			t.Errorf("MaskCard(%q) = %q, want %q", in, got, want)
		}
	}
}
