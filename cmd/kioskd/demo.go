package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gdamore/tcell/v2"

	"github.com/printroom/voucherkiosk/api/myqfake"
	"github.com/printroom/voucherkiosk/configs"
	"github.com/printroom/voucherkiosk/devices/devsim"
	"github.com/printroom/voucherkiosk/devices/devsim/sspsim"
	"github.com/printroom/voucherkiosk/kiosk/config"
	"github.com/printroom/voucherkiosk/kiosk/ui"
)

// demoPIN opens the technician menu (F10) in the demo.
const demoPIN = "123456"

// runDemo runs the real daemon on the embedded demo config: the fake MyQ
// over HTTPS with its own CA, and simulated devices on ptys so the real
// serial drivers run. Function keys drive the simulators.
func runDemo(ctx context.Context, level slog.Level, stderr io.Writer) error {
	dir, err := os.MkdirTemp("", "kioskd-demo-")
	if err != nil {
		return err
	}
	defer func() {
		os.RemoveAll(dir)
		fmt.Fprintf(stderr, "kioskd demo ended; its files in %s were removed.\n", dir)
	}()
	// The quit key: the demo only. The kiosk itself never quits from the
	// keyboard (systemd stops it).
	ctx, quit := context.WithCancel(ctx)
	defer quit()

	fake := myqfake.NewDemo(myqfake.Options{})
	srv, err := fake.Start(true)
	if err != nil {
		return fmt.Errorf("demo: fake MyQ: %w", err)
	}
	defer srv.Close()
	caFile, err := srv.WriteCAFile(dir)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}

	cfg, err := config.Parse(configs.Demo, "demo.toml")
	if err != nil {
		return fmt.Errorf("demo: embedded config: %w", err)
	}
	simDir := filepath.Join(dir, "dev")
	if err := os.MkdirAll(simDir, 0o700); err != nil {
		return err
	}
	reader, err := devsim.NewRDM6300(simDir)
	if err != nil {
		return fmt.Errorf("demo: card reader simulator: %w", err)
	}
	defer reader.Close()
	cfg.CardReader.Port = reader.Path()

	var coins *devsim.PulseBridge
	var notes *sspsim.Sim
	noteKeys := map[int]int64{}
	for i := range cfg.Acceptors {
		a := &cfg.Acceptors[i]
		switch a.Protocol {
		case config.ProtocolPulse:
			coins, err = devsim.NewPulseBridge(simDir, 30*time.Millisecond)
			if err != nil {
				return fmt.Errorf("demo: coin simulator: %w", err)
			}
			defer coins.Close()
			a.Port = coins.Path()
		case config.ProtocolESSP:
			channels := make([]int64, len(a.Values))
			for k, v := range a.Values {
				n, _ := strconv.Atoi(k)
				if n >= 1 && n <= len(channels) {
					channels[n-1] = v
					noteKeys[n] = v
				}
			}
			notes, err = sspsim.New(simDir, sspsim.Options{Channels: channels, Currency: cfg.Kiosk.Currency, Encryption: notesEncrypted(cfg)})
			if err != nil {
				return fmt.Errorf("demo: note validator simulator: %w", err)
			}
			defer notes.Close()
			a.Port = notes.Path()
		}
	}

	state := filepath.Join(dir, "state")
	cfg.Kiosk.StateDir = state
	cfg.Kiosk.ReceiptKeyFile = filepath.Join(state, "receipt.key")
	cfg.Kiosk.TechnicianPINFile = filepath.Join(dir, "technician.pin")
	if err := ui.WritePINFile(cfg.Kiosk.TechnicianPINFile, demoPIN); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	cfg.MyQ.URL = srv.URL
	cfg.MyQ.CAFile = caFile
	cfg.MyQ.ClientID = myqfake.DemoClientID
	cfg.MyQ.ClientSecret = config.Secret(myqfake.DemoClientSecret)
	cfg.Monitor.Listen = "" // a demo must not fight a real kiosk for its port

	users := myqfake.DemoUsers()
	tap := func(decimal string) func() {
		return func() {
			n, err := strconv.ParseUint(decimal, 10, 32)
			if err != nil {
				return
			}
			// The RDM6300 sends 10 hex digits: a version byte, then the
			// 4 bytes the printed decimal number is made of.
			reader.TapCard(fmt.Sprintf("10%08X", n))
		}
	}
	var outage atomic.Bool
	footer := []ui.FooterKey{
		{Key: tcell.KeyF2, Label: firstName(users[0].FullName), Do: tap(users[0].Cards[0])},
		{Key: tcell.KeyF3, Label: firstName(users[1].FullName), Do: tap(users[1].Cards[0])},
		{Key: tcell.KeyF4, Label: "unknown", Do: tap("0000999999")},
	}
	if coins != nil {
		footer = append(footer,
			ui.FooterKey{Key: tcell.KeyF5, Label: "0.50", Do: func() { coins.InsertCoin(5) }},
			ui.FooterKey{Key: tcell.KeyF6, Label: "1.00", Do: func() { coins.InsertCoin(10) }},
			ui.FooterKey{Key: tcell.KeyF7, Label: "2.00", Do: func() { coins.InsertCoin(20) }},
		)
	}
	if notes != nil && noteKeys[1] > 0 {
		footer = append(footer, ui.FooterKey{Key: tcell.KeyF8, Label: "note " + config.FormatAmount(noteKeys[1]),
			Do: func() { notes.InsertNote(1) }})
	}
	scanner, err := demoVoucherScanner(cfg, fake, simDir)
	if err != nil {
		return err
	}
	if scanner != nil {
		defer scanner.Close()
		footer = append(footer, scanner.keys...)
	}
	footer = append(footer, ui.FooterKey{Key: tcell.KeyF9, Label: "outage", Do: func() {
		fake.SetDown(!outage.Load())
		outage.Store(!outage.Load())
	}},
		ui.FooterKey{Key: tcell.KeyF10, Label: "technician (PIN " + demoPIN + ")", ShowOnly: true},
		ui.FooterKey{Key: tcell.KeyEscape, Label: "cancel", ShowOnly: true},
		ui.FooterKey{Key: demoQuitKey, Label: "quit demo", Do: quit},
	)

	fmt.Fprint(stderr, demoIntro(state, simDir, srv.URL))
	return runDaemon(ctx, daemonOptions{
		cfg: cfg, level: level, stderr: stderr, footer: footer, quietLogFile: true,
		banner: fmt.Sprintf("demo: fake MyQ at %s, devices simulated in %s, technician PIN %s", srv.URL, simDir, demoPIN),
	})
}

// demoQuitKey leaves the demo.
const demoQuitKey = tcell.KeyF12

// demoIntro is printed before the screen takes over (and is on the terminal
// again when the demo ends): how to reach the running demo with kioskctl.
// The control socket is in the state directory: the demo has no
// $RUNTIME_DIRECTORY.
func demoIntro(state, simDir, myqURL string) string {
	return fmt.Sprintf(`kioskd demo: fake MyQ at %s, simulated devices in %s.
  Keys: F2-F4 tap a card, F5-F8 insert money, F9 MyQ outage on/off,
        F10 technician menu (PIN %s), F12 quit the demo.
  While the demo runs, from another terminal:
    go run ./cmd/kioskctl status --socket-dir %s
    go run ./cmd/kioskctl queue --socket-dir %s
    go run ./cmd/kioskctl journal inspect --state-dir %s
  Log: %s (removed when the demo ends).
`, myqURL, simDir, demoPIN, state, state, state, filepath.Join(state, "kioskd.log"))
}

func firstName(full string) string {
	if i := strings.IndexByte(full, ' '); i > 0 {
		return full[:i]
	}
	return full
}

// notesEncrypted: the demo's simulated validator insists on eSSP exactly
// when the demo config asks the driver for it, as a real one set up so would.
func notesEncrypted(cfg *config.Config) bool {
	for _, a := range cfg.Acceptors {
		if a.Protocol == config.ProtocolESSP {
			return a.Encryption
		}
	}
	return false
}
