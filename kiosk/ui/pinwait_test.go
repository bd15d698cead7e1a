package ui

import (
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"

	"github.com/printroom/voucherkiosk/kiosk/pinlock"
)

// TestPINLockout: five wrong PINs, across two openings of the menu, lock
// every PIN out for a minute; the screen says how long is left, says to wait
// when digits are typed, and the right PIN works only once the wait is over.
func TestPINLockout(t *testing.T) {
	lc := &fakeClock{t: testNow}
	lock, err := pinlock.Open(filepath.Join(t.TempDir(), "technician-pin.lock"), pinlock.DefaultRule, lc.now)
	if err != nil {
		t.Fatal(err)
	}
	var failures atomic.Int32
	h, _ := startTech(t, time.Hour, func(o *Options) {
		o.PINLock, o.OnPINFailure = lock, func() { failures.Add(1) }
	})
	open := func() {
		h.key(tcell.KeyF10, 0, tcell.ModNone)
		h.waitText("Technician PIN:")
	}
	idle := func() { h.waitFor("the PIN check to end", func() bool { return !h.u.tech.busy }) }
	open()
	for i := 1; i <= 2; i++ {
		h.typePIN("000000")
		h.waitText(fmt.Sprintf("Wrong PIN (%d of 3); %d more before a wait", i, 5-i))
		idle()
	}
	// The third message shows only for the PIN delay before the prompt
	// closes: polling the screen may miss it on a loaded machine, so the
	// failure is awaited by its count and the prompt by its closing.
	h.typePIN("000000")
	h.waitFor("the third wrong PIN", func() bool { return failures.Load() == 3 })
	h.waitText("Tap your card") // three tries per opening, as before
	open()
	h.typePIN("000000")
	h.waitText("Wrong PIN (1 of 3); 1 more before a wait")
	idle()
	h.typePIN("000000")
	h.waitText("Too many wrong PINs: try again in 1 min 00 s")
	idle()
	if n := failures.Load(); n != 5 {
		t.Errorf("OnPINFailure called %d times, want 5", n)
	}
	lc.add(45 * time.Second)
	h.waitText("try again in 15 s")
	// The right PIN during the wait: refused, and the screen says to wait.
	h.typePIN(testPIN)
	h.waitText("Please wait: no PIN is taken until then.")
	// Keys are handled in order: once Esc closed the prompt, the PIN and
	// its Enter were handled too.
	h.key(tcell.KeyEscape, 0, tcell.ModNone)
	h.waitText("Tap your card")
	if lock.Left() != 0 || failures.Load() != 5 {
		t.Fatalf("the PIN typed during the lockout was checked: %d left, %d failures", lock.Left(), failures.Load())
	}
	open()
	h.waitText("Technician PIN: locked")
	lc.add(16 * time.Second)
	h.waitText("Technician PIN: _")
	h.typePIN(testPIN)
	h.waitText("Devices")
	if lock.Left() != 5 {
		t.Errorf("after the right PIN %d tries left, want 5", lock.Left())
	}
}

func TestFormatWait(t *testing.T) {
	for d, want := range map[time.Duration]string{
		1500 * time.Millisecond:         "2 s",
		time.Minute:                     "1 min 00 s",
		2*time.Minute + 5*time.Second:   "2 min 05 s",
		time.Hour:                       "1 h 00 min",
		59*time.Minute + 59*time.Second: "59 min 59 s",
	} {
		if got := FormatWait(d); got != want {
			t.Errorf("FormatWait(%v) = %q, want %q", d, got, want)
		}
	}
}
