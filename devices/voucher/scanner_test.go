package voucher_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/printroom/voucherkiosk/devices"
	"github.com/printroom/voucherkiosk/devices/devsim"
	"github.com/printroom/voucherkiosk/devices/voucher"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestScannerOverPty: a real serial scanner on a pty sends CR LF lines; the
// codes arrive as Scans, the pattern's group is the code, noise is not.
func TestScannerOverPty(t *testing.T) {
	sim, err := devsim.NewLineReader(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	s, err := voucher.NewScanner(voucher.Config{Name: "voucher", Port: sim.Path(), Pattern: `^V:(.+)$`})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	out := make(chan devices.Event)
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, out) }()
	var mu sync.Mutex
	var codes []string
	connected := make(chan struct{}, 1)
	collected := make(chan struct{})
	go func() {
		defer close(collected)
		for {
			select {
			case ev := <-out:
				switch ev := ev.(type) {
				case voucher.Scan:
					mu.Lock()
					codes = append(codes, ev.Code)
					mu.Unlock()
				case devices.StatusChange:
					if ev.Status == devices.StatusConnected {
						select {
						case connected <- struct{}{}:
						default:
						}
					}
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	<-connected
	sim.TapCard("V:MYQ5-7Q3K-4821")
	sim.TapCard("garbage line")
	sim.TapCard("V:MYQ5-H2VX-9034")
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(codes)
		mu.Unlock()
		if n >= 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	<-collected
	mu.Lock()
	defer mu.Unlock()
	if len(codes) != 2 || codes[0] != "MYQ5-7Q3K-4821" || codes[1] != "MYQ5-H2VX-9034" {
		t.Errorf("codes = %q", codes)
	}
}
