package main

import (
	"bytes"
	"context"
	"io"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

type esspBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *esspBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *esspBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func esspWait(t *testing.T, b *esspBuffer, re *regexp.Regexp) []string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(b.String()); m != nil {
			return m
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no %s in:\n%s", re, b.String())
	return nil
}

// TestESSPSimulateAndProbe drives the simulator from "stdin" and watches
// the probe decode, stack and credit the note, encrypted.
func TestESSPSimulateAndProbe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	inR, inW := io.Pipe()
	simOut, probeOut := &esspBuffer{}, &esspBuffer{}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		if err := simulateESSP(ctx, &env{stdout: simOut, stderr: io.Discard, stdin: inR}, probeOptions{Encrypt: true}); err != nil {
			t.Errorf("simulate: %v", err)
		}
	}()
	path := esspWait(t, simOut, regexp.MustCompile(`simulator on (\S+)`))[1]
	go func() {
		defer wg.Done()
		if err := probeESSP(ctx, &env{stdout: probeOut, stderr: io.Discard}, probeOptions{Port: path, Encrypt: true, KeyHex: "0123456701234567"}); err != nil {
			t.Errorf("probe: %v", err)
		}
	}()
	esspWait(t, probeOut, regexp.MustCompile(`channel  2 = 10\.00 EUR`))
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(simOut.String(), "in escrow") && time.Now().Before(deadline) {
		io.WriteString(inW, "note 2\n")
		time.Sleep(100 * time.Millisecond)
	}
	esspWait(t, probeOut, regexp.MustCompile(`escrow .* amount 10\.00: answering stack`))
	esspWait(t, probeOut, regexp.MustCompile(`credit .* amount 10\.00`))
	io.WriteString(inW, "stacked\n")
	esspWait(t, simOut, regexp.MustCompile(`stacked channels: \[2\]`))
	io.WriteString(inW, "quit\n")
	cancel()
	inW.Close()
	wg.Wait()
}

// probe --values and simulate --dir reach the essp tool (they travelled in
// a context value the essp probe never read): the probe checks the device's
// channel table against --values as kioskd checks the config, and the
// simulator's port is in --dir.
func TestESSPProbeSeesValuesAndDir(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	inR, inW := io.Pipe()
	defer inW.Close()
	simOut := &esspBuffer{}
	simDone := make(chan int, 1)
	go func() {
		simDone <- run(ctx, &env{stdout: simOut, stderr: io.Discard, stdin: inR}, []string{"simulate", "--protocol", "essp", "--dir", dir})
	}()
	path := esspWait(t, simOut, regexp.MustCompile(`simulator on (\S+)`))[1]
	if !strings.HasPrefix(path, dir+"/") {
		t.Errorf("simulator port %s is not in --dir %s", path, dir)
	}
	var probeOut, probeErr bytes.Buffer
	pctx, pcancel := context.WithTimeout(ctx, 30*time.Second)
	defer pcancel()
	// The simulator's channel 2 is 10.00 EUR; say 20.00.
	code := run(pctx, &env{stdout: &probeOut, stderr: &probeErr, stdin: strings.NewReader("")},
		[]string{"probe", "--protocol", "essp", "--port", path, "--values", "1=5.00,2=20.00"})
	if code != 1 || !strings.Contains(probeErr.String(), "channel 2") || !strings.Contains(probeErr.String(), "2000") {
		t.Errorf("probe with wrong --values: exit %d\nstdout: %s\nstderr: %s", code, probeOut.String(), probeErr.String())
	}
	io.WriteString(inW, "quit\n")
	cancel()
	<-simDone
}
