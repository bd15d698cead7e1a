package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/printroom/voucherkiosk/devices"
	"github.com/printroom/voucherkiosk/devices/bill"
	"github.com/printroom/voucherkiosk/devices/devsim/sspsim"
)

func init() {
	registerProtocol("essp", protocolTool{probe: probeESSP, simulate: simulateESSP})
}

// probeESSP runs the bill driver against a real validator with the
// device's own channel table, prints every event, and stacks notes in
// escrow (saying so): a probe is a test of the hardware, not a sale.
func probeESSP(ctx context.Context, e *env, o probeOptions) error {
	if o.Port == "" {
		return fmt.Errorf("%w: --port is required", errUsage)
	}
	// With --values the device's own channel table is checked against them,
	// as kioskd does with the config; without, it is learnt and printed.
	v, err := bill.New(bill.Config{Name: "probe", Port: o.Port, Values: o.Values, Learn: len(o.Values) == 0,
		Encryption: o.Encrypt, KeyHex: o.KeyHex, Open: o.Open,
		Log: slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		return err
	}
	v.SetAccepting(true)
	out := make(chan devices.Event)
	done := make(chan error, 1)
	go func() { done <- v.Run(ctx, out) }()
	// The driver fills Info after its handshake; show it once it is there.
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	printedInfo := false
	for {
		select {
		case err := <-done:
			return err
		case <-tick.C:
			if info := v.Info(); !printedInfo && info.Protocol > 0 {
				printedInfo = true
				printInfo(e, info)
			}
		case ev := <-out:
			switch ev := ev.(type) {
			case devices.Escrow:
				fmt.Fprintf(e.stdout, "escrow   note %s channel %s amount %s: answering stack\n", ev.NoteID, ev.Key, minor(ev.Amount))
				ev.Decide <- devices.Stack
			case devices.Credit:
				fmt.Fprintf(e.stdout, "credit   note %s channel %s amount %s\n", ev.NoteID, ev.Key, minor(ev.Amount))
				if ev.Ack != nil {
					ev.Ack() // printed: a probe books nothing, the device may forget it
				}
			case devices.NoteReturned:
				fmt.Fprintf(e.stdout, "returned note %s\n", ev.NoteID)
			case devices.UnrecognisedCash:
				fmt.Fprintf(e.stdout, "unrecognised %s\n", ev.What)
			case devices.StatusChange:
				fmt.Fprintf(e.stdout, "status   %s: %s\n", ev.Status, ev.Detail)
			}
		}
	}
}

func printInfo(e *env, i bill.Info) {
	fmt.Fprintf(e.stdout, "device   firmware %s, dataset %s, protocol %d, encrypted %t, poll with ack %t\n",
		i.Setup.Firmware, i.Setup.Country, i.Protocol, i.Encrypted, i.PollWithAck)
	for _, c := range i.Setup.Channels {
		fmt.Fprintf(e.stdout, "channel  %d = %s %s\n", c.Number, minor(c.Value), c.Currency)
	}
}

// minor prints minor units as a decimal amount without floats.
func minor(v int64) string {
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	return fmt.Sprintf("%s%d.%02d", sign, v/100, v%100)
}

// simulateESSP runs a simulated validator on a pty and drives it from stdin.
func simulateESSP(ctx context.Context, e *env, o probeOptions) error {
	dir := o.Dir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "kioskctl-essp-")
		if err != nil {
			return fmt.Errorf("simulate essp: %w", err)
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	opts := sspsim.Options{Channels: []int64{500, 1000, 2000, 5000, 10000, 20000}, Currency: "EUR", Encryption: o.Encrypt}
	if o.KeyHex != "" {
		k, err := bill.ParseKeyHex(o.KeyHex)
		if err != nil {
			return fmt.Errorf("%w: --key: %v", errUsage, err)
		}
		opts.FixedKey = k
	}
	sim, err := sspsim.New(dir, opts)
	if err != nil {
		return err
	}
	defer sim.Close()
	fmt.Fprintf(e.stdout, "SSP validator simulator on %s (9600 8N2, encrypted %t)\n", sim.Path(), o.Encrypt)
	fmt.Fprintln(e.stdout, "channels: 1=5.00 2=10.00 3=20.00 4=50.00 5=100.00 6=200.00 EUR")
	fmt.Fprintln(e.stdout, "commands: note N | reject | jam | full | reset | unplug | plug | stacked | quit")
	// The reader goroutine ends when stdin does; on ctx end the process is
	// exiting, which ends it too.
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(e.stdin)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case line, ok := <-lines:
			if !ok {
				return nil
			}
			quit, err := simCommand(sim, line, e)
			if err != nil {
				fmt.Fprintf(e.stdout, "error: %v\n", err)
			}
			if quit {
				return nil
			}
		}
	}
}

func simCommand(sim *sspsim.Sim, line string, e *env) (quit bool, err error) {
	f := strings.Fields(line)
	if len(f) == 0 {
		return false, nil
	}
	switch f[0] {
	case "note":
		if len(f) != 2 {
			return false, errors.New("usage: note CHANNEL")
		}
		ch, err := strconv.Atoi(f[1])
		if err != nil {
			return false, fmt.Errorf("note: channel %q is not a number", f[1])
		}
		if err := sim.InsertNote(ch); err != nil {
			return false, err
		}
		fmt.Fprintf(e.stdout, "note on channel %d in escrow\n", ch)
	case "reject":
		sim.Reject()
	case "jam":
		sim.Jam()
	case "full":
		sim.StackerFull()
	case "reset":
		sim.ResetDevice()
	case "unplug":
		sim.Disconnect()
	case "plug":
		return false, sim.Reconnect()
	case "stacked":
		fmt.Fprintf(e.stdout, "stacked channels: %v\n", sim.Stacked())
	case "quit", "exit":
		return true, nil
	default:
		return false, fmt.Errorf("unknown command %q", f[0])
	}
	fmt.Fprintln(e.stdout, "ok")
	return false, nil
}
