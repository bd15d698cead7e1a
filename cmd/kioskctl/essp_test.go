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
