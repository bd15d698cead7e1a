// Command kioskd is the Voucher Kiosk daemon: it reads the config, opens the
// card reader and acceptors, replays the journal, runs the session engine,
// the booking queue and the full-screen UI on the console, and answers the
// technician's tool on its control socket.
package main

import (
	"fmt"
	"os"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "kioskd:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	return fmt.Errorf("not wired yet")
}
