package e2e

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Screens that lose what the student needs to read. Both fail against the
// engine as of this writing; see the report for the fix.

// The "not registered" screen must show the masked card number (the UI draws
// "Card ******9999" when the engine's State carries Card), so the student
// and the staff know which card to register.
func TestNotRegisteredScreenShowsCard(t *testing.T) {
	t.Parallel()
	k := newKiosk(t, Options{Pulse: true})
	k.StartAndWaitIdle()
	k.Tap(UnknownCard)
	k.WaitScreen("this card is not registered")
	k.WaitScreen("Card ******9999")
}

// The receipt screen says whose account was credited ("to <full name>"),
// and the booking screen greets the student while it waits for MyQ.
func TestCreditedScreenNamesUser(t *testing.T) {
	t.Parallel()
	k := newKiosk(t, Options{Pulse: true})
	k.StartAndWaitIdle()
	u := Users()[0]
	greet(t, k, u)
	k.Coin(50)
	k.WaitTotal(50)
	k.SendKeys("Enter")
	k.WaitCredited(50)
	k.WaitBooked(map[int64]int64{u.ID: 50})
	k.WaitCredited(50, "for "+u.FullName)
}

// Under systemd (Type=notify) kioskd must send READY=1 once the screen is
// up, or systemd kills it when TimeoutStartSec runs out.
func TestSystemdReady(t *testing.T) {
	t.Parallel()
	dir, err := os.MkdirTemp("", "e2e-notify-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	k := newKiosk(t, Options{Pulse: true, NotifySocket: sock})
	k.StartAndWaitIdle()
	deadline := time.Now().Add(ScreenWait)
	var got []string
	buf := make([]byte, 4096)
	for time.Now().Before(deadline) {
		conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		n, _, err := conn.ReadFromUnix(buf)
		if err != nil {
			continue
		}
		msg := string(buf[:n])
		got = append(got, msg)
		if strings.Contains(msg, "READY=1") {
			return
		}
	}
	t.Fatalf("kioskd never sent READY=1 to NOTIFY_SOCKET (got %q); systemd would kill it at TimeoutStartSec.\nlog:\n%s",
		got, k.LogTail(20))
}
