package ui

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"

	"github.com/printroom/voucherkiosk/devices"
	"github.com/printroom/voucherkiosk/kiosk"
)

// techStub is the daemon's adapter as the menu sees it.
type techStub struct {
	mu      sync.Mutex
	flushes int
	cashups int
	by      []string
	cash    CashReport
}

func (s *techStub) Cash() (CashReport, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cash, nil
}

func (s *techStub) Queue() ([]QueueItem, error) {
	return []QueueItem{
		{Reference: "library-ground-floor/000120", Amount: 500, User: "jnovak", FinishedAt: testNow.Add(-time.Hour), Attempts: 7, LastError: "connection refused"},
		{Reference: "library-ground-floor/000121", Amount: 200, Card: "******7823", Attempts: 3, NeedsAttention: true,
			LastError: "MyQ does not know user 1176 (HTTP 404): register the card in MyQ, then flush the queue"},
	}, nil
}

func (s *techStub) FlushNow() {
	s.mu.Lock()
	s.flushes++
	s.mu.Unlock()
}

func (s *techStub) Cashup(by string) (CashReport, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cashups++
	s.by = append(s.by, by)
	rep := s.cash
	s.cash = CashReport{Since: testNow, By: by}
	return rep, nil
}

func (s *techStub) counts() (int, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.flushes, s.cashups
}

const testPIN = "471100"

func startTech(t *testing.T, timeout time.Duration, more ...func(*Options)) (*harness, *techStub) {
	t.Helper()
	pinFile := filepath.Join(t.TempDir(), "kioskd", "pin")
	if err := WritePINFile(pinFile, testPIN); err != nil {
		t.Fatal(err)
	}
	stub := &techStub{cash: CashReport{
		Since:        testNow.Add(-48 * time.Hour),
		By:           "JS",
		Lines:        []CashLine{{Device: "coins", Value: 100, Count: 12}, {Device: "coins", Value: 200, Count: 3}, {Device: "notes", Value: 1000, Count: 2}},
		Unclaimed:    150,
		Unrecognised: []string{"7 pulses"},
	}}
	h := startUI(t, 80, 24, func(o *Options, u *UI) {
		if o != nil {
			o.Technician, o.PINFile = stub, pinFile
			for _, f := range more {
				f(o)
			}
		}
		if u != nil {
			u.pinDelay = 10 * time.Millisecond
			u.techTimeout = timeout
			u.tickEvery = 20 * time.Millisecond
		}
	})
	h.show(kiosk.State{Phase: kiosk.PhaseIdle, Accepted: accepted, Queue: kiosk.QueueStatus{
		Pending: 2, NeedsAttention: 1, OldestPending: testNow.Add(-time.Hour), LastError: "connection refused", Online: false},
		Devices: map[string]devices.StatusChange{
			"card":  {Device: "card", Status: devices.StatusConnected, At: testNow.Add(-10 * time.Minute)},
			"coins": {Device: "coins", Status: devices.StatusJammed, Detail: "coin jam in sorter", At: testNow.Add(-time.Minute)},
		}})
	return h, stub
}

func (h *harness) typePIN(pin string) {
	for _, r := range pin {
		h.key(tcell.KeyRune, r, tcell.ModNone)
	}
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
}

func TestTechnicianWrongPINThreeTimes(t *testing.T) {
	h, _ := startTech(t, time.Hour)
	h.key(tcell.KeyF10, 0, tcell.ModNone)
	h.waitText("Technician PIN:")
	for i := 1; i <= 3; i++ {
		h.typePIN("0000")
		if i < 3 {
			h.waitText("Wrong PIN (" + string(rune('0'+i)) + " of 3)")
			h.waitFor("the delay to pass", func() bool { return !h.u.tech.busy })
		}
	}
	h.waitText("Tap your card")
	if len(h.eng.gotKeys()) != 0 {
		t.Errorf("PIN keys reached the engine: %v", h.eng.gotKeys())
	}
}

func TestTechnicianMenu(t *testing.T) {
	h, stub := startTech(t, time.Hour)
	h.key(tcell.KeyF10, 0, tcell.ModNone)
	h.waitText("Technician PIN:")
	h.typePIN(testPIN)
	h.waitText("Cash in the box")
	txt := h.text()
	for _, want := range []string{"coins", "jammed", "coin jam in sorter", "2 pending, 1 need attention", "MyQ OFFLINE",
		"connection refused", "NEEDS ATTENTION", "card ******7823", "€1.00 x   12 = €12.00", "unclaimed (no card tapped): €1.50",
		"unrecognised: 7 pulses", "F: flush queue now", "7 tries", "by JS): €39.50",
		"register the card in MyQ, then", "     flush the queue"} {
		if !strings.Contains(txt, want) {
			t.Errorf("menu lacks %q:\n%s", want, txt)
		}
	}
	golden(t, "technician_80x24.txt", txt)

	h.key(tcell.KeyRune, 'f', tcell.ModNone)
	h.waitText("Flush requested.")
	h.key(tcell.KeyRune, 'c', tcell.ModNone)
	h.waitText("Your name or initials: _")
	prompt := h.text()
	for _, want := range []string{"start a new period.", "Enter = cash-up, Esc = cancel"} {
		if !strings.Contains(prompt, want) {
			t.Errorf("cash-up prompt cut at 80 columns: lacks %q:\n%s", want, prompt)
		}
	}
	golden(t, "technician_cashup_80x24.txt", prompt)
	h.key(tcell.KeyEscape, 0, tcell.ModNone) // changed their mind
	h.waitText("C: cash-up")
	h.key(tcell.KeyRune, 'c', tcell.ModNone)
	h.waitText("Your name or initials: _")
	h.key(tcell.KeyEnter, 0, tcell.ModNone) // no name: nothing happens
	for _, r := range "JN" {
		h.key(tcell.KeyRune, r, tcell.ModNone)
	}
	h.waitText("Your name or initials: JN_")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitText("Cash-up by JN done: €39.50 taken out (period since 2025-03-12 09:26)")
	// The menu now names the cash-up just made, not "never".
	h.waitText("since the cash-up of 2025-03-14 09:26 by JN")
	if f, c := stub.counts(); f != 1 || c != 1 {
		t.Errorf("flushes %d, cash-ups %d: want 1 and 1", f, c)
	}
	stub.mu.Lock()
	if len(stub.by) != 1 || stub.by[0] != "JN" {
		t.Errorf("cash-up recorded by %q, want JN", stub.by)
	}
	stub.mu.Unlock()
	h.key(tcell.KeyEscape, 0, tcell.ModNone)
	h.waitText("Tap your card")
	if len(h.eng.gotKeys()) != 0 {
		t.Errorf("menu keys reached the engine: %v", h.eng.gotKeys())
	}
}

func TestTechnicianMenuClosesWhenIdle(t *testing.T) {
	h, _ := startTech(t, 60*time.Second)
	h.key(tcell.KeyF10, 0, tcell.ModNone)
	h.typePIN(testPIN)
	h.waitText("Cash in the box")
	// The fake clock does not redraw: the tick does. Wait for each advance
	// to reach the screen before pressing a key, or a wait can match the
	// previous drawing ("closes in 60 s" is on screen right after opening)
	// and the clock moves on before the key is handled.
	h.clock.add(59 * time.Second)
	h.waitText("closes in 1 s")
	h.key(tcell.KeyRune, 'r', tcell.ModNone) // a key restarts the 60 s
	h.waitText("closes in 60 s")

	// 118 s after opening, past the first deadline: still open, and fresh
	// data (the menu's own reload, an engine state) restarts nothing.
	h.clock.add(59 * time.Second)
	h.onLoop(func() { h.u.refreshTech("Reloaded.") })
	h.waitText("Reloaded.")
	h.show(kiosk.State{Phase: kiosk.PhaseIdle, Accepted: accepted, Queue: online})
	h.waitText("closes in 1 s")

	h.clock.add(2 * time.Second)
	h.waitText("Tap your card")
}

func TestTechnicianNeedsConfig(t *testing.T) {
	h := startUI(t, 80, 24, nil)
	h.show(kiosk.State{Phase: kiosk.PhaseIdle, Queue: online})
	h.key(tcell.KeyF10, 0, tcell.ModNone)
	h.key(tcell.KeyRune, 'l', tcell.ModNone) // proves F10 was handled first
	h.waitText("Přiložte")
}

func TestPINHash(t *testing.T) {
	stored := HashPIN("123456")
	if !strings.HasPrefix(stored, "pbkdf2-sha256:") || strings.Contains(stored, "123456") {
		t.Fatalf("stored form %q", stored)
	}
	if HashPIN("123456") == stored {
		t.Error("two hashes of one PIN are equal: no salt")
	}
	for pin, want := range map[string]bool{"123456": true, "123457": false, "": false, "1234567": false} {
		ok, err := CheckPIN(stored, pin)
		if err != nil || ok != want {
			t.Errorf("CheckPIN(%q) = %v, %v; want %v", pin, ok, err, want)
		}
	}
	for _, bad := range []string{"", "sha256:aa:bb", "pbkdf2-sha256:1:00:00", "pbkdf2-sha256:100000:zz:" + strings.Repeat("0", 64)} {
		if _, err := CheckPIN(bad, "1234"); err == nil {
			t.Errorf("CheckPIN accepted stored form %q", bad)
		}
	}
}

func TestPINFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "pin")
	for _, bad := range []string{"123", "12345", "12ab56", "1234567890123"} {
		if err := WritePINFile(path, bad); err == nil {
			t.Errorf("WritePINFile accepted PIN %q", bad)
		}
	}
	if err := WritePINFile(path, "246813"); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("pin file: %v, mode %v", err, st.Mode())
	}
	stored, err := ReadPINFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := CheckPIN(stored, "246813"); !ok {
		t.Error("written PIN does not check")
	}
	os.Chmod(path, 0o644)
	if _, err := ReadPINFile(path); err == nil {
		t.Error("world-readable PIN file accepted")
	}
	if _, err := ReadPINFile(filepath.Join(dir, "none")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func FuzzCheckPIN(f *testing.F) {
	f.Add(hashPIN("1234", []byte("saltsaltsaltsalt"), 1000), "1234")
	f.Add("pbkdf2-sha256:1000:00:00", "1")
	f.Add("pbkdf2-sha256:-1:zz:", "")
	f.Add(":::", "0")
	f.Fuzz(func(t *testing.T, stored, pin string) {
		ok, err := CheckPIN(stored, pin)
		if err != nil && ok {
			t.Fatal("an error and a match")
		}
	})
}

// At 80 columns a device's port path (the demo's are long) cut off how long
// ago it reported ("ssp-validator  1"): the age comes first, and a long
// detail wraps onto a second line instead of being cut.
func TestTechnicianDeviceLineKeepsItsAge(t *testing.T) {
	h, _ := startTech(t, time.Hour)
	port := "/tmp/kioskd-demo-1853792236/dev/ssp-validator"
	h.show(kiosk.State{Phase: kiosk.PhaseIdle, Accepted: accepted, Queue: online,
		Devices: map[string]devices.StatusChange{
			"notes": {Device: "notes", Status: devices.StatusConnected, Detail: port, At: testNow.Add(-15 * time.Second)},
		}})
	h.key(tcell.KeyF10, 0, tcell.ModNone)
	h.waitText("Technician PIN:")
	h.typePIN(testPIN)
	h.waitText("Devices")
	txt := h.text()
	var row string
	for _, l := range strings.Split(txt, "\n") {
		if strings.HasPrefix(l, "   notes      connected") {
			row = l
			break
		}
	}
	if !strings.Contains(row, "15s ago") {
		t.Errorf("device row %q: the age is cut off", row)
	}
	if !strings.Contains(strings.ReplaceAll(txt, "\n", ""), port) && !strings.Contains(txt, "ssp-validator") {
		t.Errorf("the port is lost:\n%s", txt)
	}
}

func TestTechnicianMenuShowsCashboxFill(t *testing.T) {
	h, _ := startTech(t, time.Hour)
	h.show(kiosk.State{Phase: kiosk.PhaseIdle, Accepted: accepted, Cashboxes: []kiosk.CashboxFill{
		{Device: "coins", Pieces: 40}, // no capacity: no line
		{Device: "notes", Pieces: 285, Capacity: 300, Percent: 95, NearFull: true, Refusing: true},
		{Device: "hopper", Pieces: 120, Capacity: 1000, Percent: 12},
	}})
	h.key(tcell.KeyF10, 0, tcell.ModNone)
	h.waitText("Technician PIN:")
	h.typePIN(testPIN)
	h.waitText("Cash in the box")
	txt := h.text()
	for _, want := range []string{
		"notes      cash box 285 of 300 pieces (95%): NEAR FULL, refusing cash",
		"hopper     cash box 120 of 1000 pieces (12%)",
	} {
		if !strings.Contains(txt, want) {
			t.Errorf("menu lacks %q:\n%s", want, txt)
		}
	}
	if strings.Contains(txt, "coins      cash box") {
		t.Errorf("menu shows a fill level for an acceptor with no capacity:\n%s", txt)
	}
}

// Journal damage (issue 11 item 4) stays on the technician menu, worded in
// full at 80 columns, until a technician acknowledges it.
func TestTechnicianMenuShowsJournalDamage(t *testing.T) {
	h, stub := startTech(t, time.Hour)
	stub.mu.Lock()
	stub.cash.Alerts = []string{"journal bytes at offset 4096 (87 bytes) were cut at start and kept in journal-damaged-4096: count the cash box, then run 'kioskctl journal ack-damage'"}
	stub.mu.Unlock()
	h.key(tcell.KeyF10, 0, tcell.ModNone)
	h.waitText("Technician PIN:")
	h.typePIN(testPIN)
	h.waitText("Cash in the box")
	txt := strings.Join(strings.Fields(h.text()), " ")
	if !strings.Contains(txt, "ALERT: journal bytes at offset 4096") || !strings.Contains(txt, "'kioskctl journal ack-damage'") {
		t.Errorf("menu lacks the whole journal damage alert:\n%s", h.text())
	}
}
