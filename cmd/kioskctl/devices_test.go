package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func waitOutput(t *testing.T, b *syncBuf, want string) {
	t.Helper()
	// Generous: two loaded cores under -race; the output is what is awaited.
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(b.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in output:\n%s", want, b.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A technician rehearses: simulate a device in one terminal, probe it from
// another, and see the decoded events.
func TestSimulateAndProbe(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	tests := []struct {
		protocol, probeArgs, command, want string
	}{
		{"rdm6300", "--transform=right(8)|hex2dec|lpad(10,0)", "card 100086F444", "card     ******4356"},
		{"line", "--reveal", "card 4711", "card     4711"},
		{"pulse", "--values=5=0.50", "coin 5", "credit   0.50 (key 5)"},
		{"cctalk", "--values=3=0.50", "coin 3", "credit   0.50 (key 3) counter 1"},
	}
	for _, tt := range tests {
		t.Run(tt.protocol, func(t *testing.T) {
			dir := t.TempDir()
			ctx, cancel := context.WithCancel(context.Background())
			inR, inW := io.Pipe()
			simOut, probeOut, errOut := &syncBuf{}, &syncBuf{}, &syncBuf{}
			var simCode, probeCode int
			probing := false
			simDone, probeDone := make(chan struct{}), make(chan struct{})
			go func() {
				defer close(simDone)
				simCode = run(ctx, &env{stdout: simOut, stderr: errOut, stdin: inR}, []string{"simulate", "--protocol", tt.protocol, "--dir", dir})
			}()
			// On every way out, a failed wait included: the simulator's
			// stdin reader ends only with its input (the test owns the pipe),
			// and both commands end before goleak looks.
			defer func() {
				cancel()
				inW.Close()
				<-simDone
				if probing {
					<-probeDone
				}
			}()
			waitOutput(t, simOut, "simulator ready")
			port := filepath.Join(dir, tt.protocol)
			if tt.protocol == "line" {
				port = filepath.Join(dir, "cardline")
			}
			pctx, pcancel := context.WithCancel(ctx)
			defer pcancel()
			probing = true
			go func() {
				defer close(probeDone)
				probeCode = run(pctx, &env{stdout: probeOut, stderr: errOut, stdin: strings.NewReader("")},
					[]string{"probe", "--port", port, "--protocol", tt.protocol, tt.probeArgs})
			}()
			waitOutput(t, probeOut, "connected")
			if tt.protocol == "cctalk" {
				waitOutput(t, probeOut, "coin     position 3 = EU050A")
			}
			io.WriteString(inW, tt.command+"\n")
			waitOutput(t, probeOut, tt.want)
			pcancel()
			<-probeDone
			if probeCode != 0 {
				t.Errorf("probe exit %d: %s", probeCode, errOut.String())
			}
			inW.Close()
			<-simDone
			if simCode != 0 {
				t.Errorf("simulate exit %d: %s", simCode, errOut.String())
			}
		})
	}
}

func TestProbeUsage(t *testing.T) {
	for _, args := range [][]string{
		{"probe", "--protocol", "nope", "--port", "/dev/null"},
		{"probe", "--protocol", "rdm6300"},
		{"probe", "--protocol", "pulse", "--port", "/x", "--values", "5=0.505"},
		{"probe", "--protocol", "rdm6300", "--port", "/x", "--transform", "hexdec"},
		{"simulate", "--protocol", "nope"},
	} {
		var out, errOut syncBuf
		if code := run(context.Background(), &env{stdout: &out, stderr: &errOut, stdin: strings.NewReader("")}, args); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, errOut.String())
		}
	}
}

func TestParseValues(t *testing.T) {
	got, err := parseValues("1=0.10, 5=0.5,10=1,2=12.34")
	if err != nil || got[1] != 10 || got[5] != 50 || got[10] != 100 || got[2] != 1234 {
		t.Fatalf("parseValues = %v, %v", got, err)
	}
	for _, bad := range []string{"1", "x=1", "1=0.001", "1=-1", "1=0", "1=1,1=2", "1=1e3", "1=.5"} {
		if _, err := parseValues(bad); err == nil {
			t.Errorf("parseValues(%q) accepted", bad)
		}
	}
}

func TestPortsWithoutPorts(t *testing.T) {
	var out syncBuf
	printPorts(&env{stdout: &out}, nil, nil)
	if strings.TrimSpace(out.String()) != "no serial ports" {
		t.Fatalf("output %q", out.String())
	}
}
