package trace_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/printroom/voucherkiosk/devices"
	"github.com/printroom/voucherkiosk/devices/bill"
	"github.com/printroom/voucherkiosk/devices/devsim/sspsim"
	"github.com/printroom/voucherkiosk/devices/trace"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// syncBuf lets the test read the trace while the driver writes it.
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

// A probe of a real (simulated) validator over a pty: every byte is in the
// trace, and decoding it offline names the commands, the setup and the
// events of a note.
func TestRecordAndDecodeESSP(t *testing.T) {
	for _, enc := range []bool{false, true} {
		sim, err := sspsim.New(t.TempDir(), sspsim.Options{Channels: []int64{500, 1000}, Encryption: enc})
		if err != nil {
			t.Fatal(err)
		}
		var file syncBuf
		rec, err := trace.NewRecorder(&file, trace.Options{Protocol: "essp", Port: sim.Path()})
		if err != nil {
			t.Fatal(err)
		}
		v, err := bill.New(bill.Config{Name: "probe", Port: sim.Path(), Learn: true, Encryption: enc,
			PollInterval: 10 * time.Millisecond, Open: rec.Open(nil)})
		if err != nil {
			t.Fatal(err)
		}
		v.SetAccepting(true)
		ctx, cancel := context.WithCancel(context.Background())
		out := make(chan devices.Event)
		done := make(chan error, 1)
		go func() { done <- v.Run(ctx, out) }()
		credited := false
		for !credited {
			ev := <-out
			switch ev := ev.(type) {
			case devices.StatusChange:
				if ev.Status == devices.StatusConnected {
					go func() {
						for sim.InsertNote(2) != nil {
							time.Sleep(5 * time.Millisecond)
						}
					}()
				}
			case devices.Escrow:
				ev.Decide <- devices.Stack
			case devices.Credit:
				ev.Ack()
				credited = true
			}
		}
		for len(sim.AckPending()) > 0 {
			time.Sleep(5 * time.Millisecond) // until the credit's EVENT_ACK went out
		}
		cancel()
		go func() {
			for range out {
			}
		}()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		close(out)
		sim.Close()
		if err := rec.Err(); err != nil {
			t.Fatal(err)
		}
		var text strings.Builder
		if err := trace.Decode(strings.NewReader(file.String()), &text); err != nil {
			t.Fatal(err)
		}
		got := text.String()
		want := []string{"trace of essp on ", "-> 7F 80 01 11 65 82", "seq 1: SYNC", "<- "}
		if enc {
			want = append(want, "SET_GENERATOR ", "OK slave key ", "eSSP encrypted packet")
		} else {
			want = append(want, "HOST_PROTOCOL_VERSION 08", "OK setup: firmware 0410, EUR, protocol 8, 2 channels", "OK events: READ 0, READ 2", "CREDIT 2", "POLL_WITH_ACK", "KEY_NOT_SET")
		}
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("encrypted=%v: decoded trace lacks %q:\n%s", enc, w, got)
			}
		}
	}
}

// Card numbers stay out of a trace unless the technician asks: no bytes,
// and the meaning shows the number masked.
func TestCardTraceMasked(t *testing.T) {
	frame, _ := hex.DecodeString("02313030303836463434343236" + "03")
	for _, reveal := range []bool{false, true} {
		var file bytes.Buffer
		rec, err := trace.NewRecorder(&file, trace.Options{Protocol: "rdm6300", Port: "/dev/card", Reveal: reveal,
			Now: func() time.Time { return time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC) }})
		if err != nil {
			t.Fatal(err)
		}
		rec.Note(trace.In, frame, nil)
		var text strings.Builder
		if err := trace.Decode(&file, &text); err != nil {
			t.Fatal(err)
		}
		hasWhole := strings.Contains(file.String(), "100086F444") || strings.Contains(text.String(), "100086F444") ||
			strings.Contains(file.String(), "3130303038")
		if hasWhole != reveal {
			t.Errorf("reveal=%v: whole number in the trace = %v:\n%s\n%s", reveal, hasWhole, file.String(), text.String())
		}
		if !strings.Contains(text.String(), "card ******F444") && !reveal {
			t.Errorf("masked card missing:\n%s", text.String())
		}
	}
}

// Hostile or damaged files give an error naming the line, never a panic.
func TestDecodeRejectsBadFiles(t *testing.T) {
	head := `{"trace":"voucherkiosk serial trace","version":1,"protocol":"essp","port":"/dev/x","started":"2026-01-01T08:00:00Z"}` + "\n"
	for _, tc := range []struct{ name, in, want string }{
		{"empty", "", "empty file"},
		{"not a trace", "hello\n", "line 1: not a voucherkiosk serial trace header"},
		{"future version", strings.Replace(head, `"version":1`, `"version":9`, 1), "version 9"},
		{"unknown protocol", strings.Replace(head, `"essp"`, `"mdb"`, 1), `protocol "mdb" unknown`},
		{"bad hex", head + `{"t":"2026-01-01T08:00:00Z","dir":"out","n":1,"hex":"zz"}` + "\n", "line 2: hex"},
		{"wrong length", head + `{"t":"2026-01-01T08:00:00Z","dir":"out","n":3,"hex":"7f"}` + "\n", "line 2: 1 bytes recorded, n says 3"},
		{"bad direction", head + `{"t":"2026-01-01T08:00:00Z","dir":"up","n":1,"hex":"7f"}` + "\n", `line 2: direction "up"`},
		{"huge line", head + strings.Repeat("x", 100<<10) + "\n", "line 2: bufio.Scanner: token too long"},
	} {
		err := trace.Decode(strings.NewReader(tc.in), &strings.Builder{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want %q", tc.name, err, tc.want)
		}
	}
}
