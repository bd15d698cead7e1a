package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/printroom/voucherkiosk/devices/devsim"
)

// probe --trace writes every byte of a real (simulated) ccTalk acceptor
// over a pty; trace decode reads it back with the frames named.
func TestProbeTraceAndDecode(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	sim, err := devsim.NewCCTalk(t.TempDir(), map[int]string{3: "EU050A"})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	file := filepath.Join(t.TempDir(), "coins.trace")
	ctx, cancel := context.WithCancel(context.Background())
	out, errOut := &syncBuf{}, &syncBuf{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, &env{stdout: out, stderr: errOut, stdin: strings.NewReader("")},
			[]string{"probe", "--port", sim.Path(), "--protocol", "cctalk", "--values=3=0.50", "--trace", file})
	}()
	waitOutput(t, out, "coin     position 3 = EU050A")
	for !sim.InsertCoin(3) {
		time.Sleep(10 * time.Millisecond) // until the probe has enabled intake
	}
	waitOutput(t, out, "credit   0.50 (key 3) counter 1")
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("probe exit %d: %s", code, errOut.String())
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("trace file: %v %v, want mode 600", fi, err)
	}
	decoded := &syncBuf{}
	if code := run(context.Background(), &env{stdout: decoded, stderr: errOut}, []string{"trace", "decode", file}); code != 0 {
		t.Fatalf("trace decode exit %d: %s", code, errOut.String())
	}
	for _, want := range []string{"trace of cctalk on ", "-> 02 00 01 FE FF", "to 2 from 1: simple poll; simple checksum ok",
		"to 1 from 2: ACK", `read coin id data 03`, `"EU050A"`, "read buffered credit or error codes"} {
		if !strings.Contains(decoded.String(), want) {
			t.Errorf("decoded trace lacks %q:\n%s", want, decoded.String())
		}
	}
	// A second probe does not overwrite an attached trace.
	if code := run(context.Background(), &env{stdout: out, stderr: errOut, stdin: strings.NewReader("")},
		[]string{"probe", "--port", sim.Path(), "--protocol", "cctalk", "--trace", file}); code != 1 {
		t.Errorf("probe over an existing trace: exit %d, want 1", code)
	}
	if code := run(context.Background(), &env{stdout: out, stderr: errOut}, []string{"trace", "decode"}); code != 2 {
		t.Errorf("trace decode without a file: exit %d, want 2", code)
	}
}
