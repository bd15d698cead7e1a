package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/printroom/voucherkiosk/api/myqfake"
)

// The technician PIN of the lockdown scenarios.
const lockdownPIN = "482913"

// Issue 14: a USB key injector brute-forcing the technician PIN through the
// real kioskd is locked out after 5 wrong PINs, across menu openings and a
// restart, and even the right PIN is refused while the wait runs.
func TestPINBruteForceLockedOut(t *testing.T) {
	t.Parallel()
	k := newKiosk(t, Options{Pulse: true, TechnicianPIN: lockdownPIN})
	k.StartAndWaitIdle()
	guess := func(pin string) {
		k.WaitScreen("Technician PIN: _")
		k.SendKeys(strings.Split(pin, "")...)
		k.SendKeys("Enter")
	}
	k.SendKeys("F10")
	for i := 1; i <= 3; i++ {
		guess(fmt.Sprintf("%06d", i))
		if i < 3 {
			k.WaitScreen(fmt.Sprintf("Wrong PIN (%d of 3); %d more before a wait", i, 5-i))
		}
	}
	// The third refusal shows only for the PIN delay before the prompt
	// closes: a loaded machine may never capture it, so count it in the log.
	k.WaitScreenFunc("the third wrong PIN logged and the idle screen", func(s string) bool {
		return strings.Count(k.Log(), "wrong technician pin") == 3 && strings.Contains(s, "Tap your card")
	})
	k.SendKeys("F10") // and opening it again gives no fresh tries
	guess("000004")
	k.WaitScreen("Wrong PIN (1 of 3); 1 more before a wait")
	guess("000005")
	k.WaitScreen("Technician PIN: locked", "Too many wrong PINs: try again in")
	// The right PIN during the wait is not taken, and the screen says so.
	k.SendKeys(strings.Split(lockdownPIN, "")...)
	k.SendKeys("Enter")
	k.WaitScreen("Please wait: no PIN is taken until then.")
	if s := k.Screen(); strings.Contains(s, "Devices") || !strings.Contains(s, "Technician PIN: locked") {
		t.Fatalf("the right PIN opened the menu during the lockout:\n%s", s)
	}
	if n := strings.Count(k.Log(), "wrong technician pin"); n != 5 {
		t.Errorf("%d wrong PINs logged, want 5", n)
	}
	// A restart does not lift it: the count is in the state directory.
	k.Kill()
	k.StartAndWaitIdle()
	k.SendKeys("F10")
	k.WaitScreen("Technician PIN: locked", "Too many wrong PINs: try again in")
	if _, err := os.Stat(filepath.Join(k.StateDir, "technician-pin.lock")); err != nil {
		t.Errorf("no lockout file in the state directory: %v", err)
	}
}

// Issue 14: a card emulator walking through card numbers gets five "not
// registered" answers, then the reader is paused: the screen says to wait,
// a registered card read during the pause shows no name, and the log warns.
func TestCardFloodPausesReader(t *testing.T) {
	t.Parallel()
	k := newKiosk(t, Options{Pulse: true})
	k.StartAndWaitIdle()
	for i := 1; i <= 5; i++ {
		card := fmt.Sprintf("00009900%02d", i)
		k.Tap(card)
		k.WaitScreen("this card is not registered", "******"+card[6:])
	}
	k.WaitScreen("the card reader is paused")
	k.WaitScreenFunc("a countdown of the pause", func(s string) bool {
		return strings.Contains(strings.Join(strings.Fields(s), " "), "Please wait")
	})
	lookups := k.Fake.Requests(myqfake.RouteFindUser)
	k.Tap("0012345678") // Jana's card: ignored, her name never shows
	k.WaitScreenFunc("the log to say the card was ignored", func(string) bool {
		return strings.Contains(k.Log(), "card ignored: reader paused")
	})
	if s := k.Screen(); strings.Contains(s, "Jana") || strings.Contains(s, "Hello") {
		t.Fatalf("a card read during the pause was looked up:\n%s", s)
	}
	if !strings.Contains(k.Log(), "level=WARN msg=\"engine: card reader paused") {
		t.Errorf("the pause is not logged at warn:\n%s", k.LogTail(20))
	}
	if n := k.Fake.Requests(myqfake.RouteFindUser); n != lookups {
		t.Errorf("MyQ was asked %d more times during the pause", n-lookups)
	}
}
