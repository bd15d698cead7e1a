package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/printroom/voucherkiosk/devices"
	"github.com/printroom/voucherkiosk/devices/card"
	"github.com/printroom/voucherkiosk/devices/coin"
	"github.com/printroom/voucherkiosk/devices/devsim"
)

// Card readers and coin acceptors for `kioskctl probe` and `simulate`.
func init() {
	registerProtocol("rdm6300", protocolTool{probe: probeCard("rdm6300"), simulate: simulateRDM6300})
	registerProtocol("line", protocolTool{probe: probeCard("line"), simulate: simulateLine})
	registerProtocol("pulse", protocolTool{probe: probePulse, simulate: simulatePulse})
	registerProtocol("cctalk", protocolTool{probe: probeCCTalk, simulate: simulateCCTalk})
}

func probeLog(e *env) *slog.Logger {
	return slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// printEvents runs d and prints what it reports until ctx ends.
func printEvents(ctx context.Context, e *env, d devices.Device, reveal bool) error {
	out := make(chan devices.Event)
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx, out) }()
	for {
		select {
		case err := <-done:
			return err
		case ev := <-out:
			fmt.Fprintln(e.stdout, describeEvent(ev, reveal))
		}
	}
}

func describeEvent(ev devices.Event, reveal bool) string {
	ts := time.Now().Format("15:04:05.000")
	switch ev := ev.(type) {
	case devices.CardRead:
		n := devices.MaskCard(ev.Number)
		if reveal {
			n = ev.Number
		}
		return fmt.Sprintf("%s card     %s", ts, n)
	case devices.Credit:
		s := fmt.Sprintf("%s credit   %s (key %s)", ts, formatMinor(ev.Amount), ev.Key)
		if ev.Counter > 0 {
			s += fmt.Sprintf(" counter %d", ev.Counter)
		}
		return s
	case devices.UnrecognisedCash:
		return fmt.Sprintf("%s unrecognised cash: %s", ts, ev.What)
	case devices.StatusChange:
		return fmt.Sprintf("%s status   %s: %s", ts, ev.Status, ev.Detail)
	}
	return fmt.Sprintf("%s event    %T", ts, ev)
}

// formatMinor prints minor units as a decimal amount (two places).
func formatMinor(v int64) string {
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	return fmt.Sprintf("%s%d.%02d", sign, v/100, v%100)
}

// parseValues reads "1=0.10,5=0.50": key = amount in major units, parsed
// exactly into minor units.
func parseValues(s string) (map[int]int64, error) {
	out := map[int]int64{}
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return nil, fmt.Errorf("--values: %q is not KEY=AMOUNT", part)
		}
		key, err := strconv.Atoi(strings.TrimSpace(k))
		if err != nil || key < 1 {
			return nil, fmt.Errorf("--values: key %q must be a positive whole number", k)
		}
		amt, err := parseAmount(strings.TrimSpace(v))
		if err != nil {
			return nil, fmt.Errorf("--values: key %d: %w", key, err)
		}
		if _, dup := out[key]; dup {
			return nil, fmt.Errorf("--values: key %d given twice", key)
		}
		out[key] = amt
	}
	return out, nil
}

// parseAmount turns "0.50" into 50 without floats.
func parseAmount(s string) (int64, error) {
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" || len(frac) > 2 || len(whole) > 9 {
		return 0, fmt.Errorf("amount %q must look like 1.50", s)
	}
	for len(frac) < 2 {
		frac += "0"
	}
	w, err1 := strconv.ParseInt(whole, 10, 64)
	f, err2 := strconv.ParseInt(frac, 10, 64)
	if err1 != nil || err2 != nil || w < 0 || f < 0 || strings.ContainsAny(s, "+-") {
		return 0, fmt.Errorf("amount %q must look like 1.50", s)
	}
	if w*100+f == 0 {
		return 0, fmt.Errorf("amount %q must be more than zero", s)
	}
	return w*100 + f, nil
}

func probeCard(format string) func(ctx context.Context, e *env, o probeOptions) error {
	return func(ctx context.Context, e *env, o probeOptions) error {
		chain, err := card.ParseChain(o.Transform)
		if err != nil {
			return fmt.Errorf("%w: --transform: %v", errUsage, err)
		}
		r, err := card.NewReader(card.Config{Name: "probe", Port: o.Port, Baud: o.Baud, Format: format,
			Transform: chain, Log: probeLog(e), Open: o.Open})
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "reading %s cards on %s (transform %q); Ctrl-C ends\n", format, o.Port, chain.String())
		return printEvents(ctx, e, r, o.Reveal)
	}
}

// probeValues are used when --values is not given: every count or position
// is shown with a nominal 0.01 so the technician sees what arrives.
func probeValues(o probeOptions, n int) map[int]int64 {
	if len(o.Values) > 0 {
		return o.Values
	}
	v := map[int]int64{}
	for i := 1; i <= n; i++ {
		v[i] = 1
	}
	return v
}

func probePulse(ctx context.Context, e *env, o probeOptions) error {
	p, err := coin.NewPulse(coin.PulseConfig{Name: "probe", Port: o.Port, Baud: o.Baud,
		Values: probeValues(o, 50), Log: probeLog(e), Open: o.Open})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "counting pulse trains on %s; Ctrl-C ends\n", o.Port)
	return printEvents(ctx, e, p, false)
}

func probeCCTalk(ctx context.Context, e *env, o probeOptions) error {
	a, err := coin.NewCCTalk(coin.CCTalkConfig{Name: "probe", Port: o.Port, Baud: o.Baud,
		Values: probeValues(o, 16), Log: probeLog(e), Open: o.Open})
	if err != nil {
		return err
	}
	a.SetAccepting(true)
	fmt.Fprintf(e.stdout, "ccTalk acceptor on %s, accepting; Ctrl-C ends\n", o.Port)
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		shown := false
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for !shown {
			select {
			case <-pctx.Done():
				return
			case <-t.C:
			}
			if i := a.Info(); i.Manufacturer != "" || i.Product != "" {
				shown = true
				fmt.Fprintf(e.stdout, "device   %s %s serial %s\n", i.Manufacturer, i.Product, i.Serial)
				for pos := 1; pos <= 16; pos++ {
					if id, ok := i.Coins[pos]; ok {
						fmt.Fprintf(e.stdout, "coin     position %d = %s\n", pos, id)
					}
				}
			}
		}
	}()
	err = printEvents(pctx, e, a, false)
	cancel()
	<-done
	return err
}

// simulator is what every device simulator offers.
type simulator interface {
	Path() string
	Disconnect()
	Reconnect() error
	Close() error
	Garbage([]byte)
}

// runSimulator prints the path and reads commands until ctx ends or stdin
// closes. do handles the device-specific commands and reports whether it
// knew the command.
func runSimulator(ctx context.Context, e *env, sim simulator, help string, do func(cmd, arg string) (bool, error)) error {
	defer sim.Close()
	fmt.Fprintf(e.stdout, "simulator ready: port = %q\n", sim.Path())
	fmt.Fprintf(e.stdout, "commands: %s, garbage [TEXT], unplug, plug, quit\n", help)
	lines := make(chan string)
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
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
		var line string
		var ok bool
		select {
		case <-ctx.Done():
			return nil
		case line, ok = <-lines:
		}
		if !ok {
			return nil
		}
		cmd, arg, _ := strings.Cut(strings.TrimSpace(line), " ")
		arg = strings.TrimSpace(arg)
		var err error
		switch cmd {
		case "":
			continue
		case "quit", "exit":
			return nil
		case "garbage":
			if arg == "" {
				arg = "\xff\x00\x13garbage\x02"
			}
			sim.Garbage([]byte(arg))
		case "unplug":
			sim.Disconnect()
		case "plug":
			err = sim.Reconnect()
		default:
			var known bool
			known, err = do(cmd, arg)
			if !known {
				err = fmt.Errorf("unknown command %q; commands: %s, garbage, unplug, plug, quit", cmd, help)
			}
		}
		if err != nil {
			fmt.Fprintln(e.stdout, "error:", err)
			continue
		}
		fmt.Fprintln(e.stdout, "ok")
	}
}

var errArg = errors.New("needs an argument")

func simulateRDM6300(ctx context.Context, e *env, o probeOptions) error {
	sim, err := devsim.NewRDM6300(o.Dir)
	if err != nil {
		return err
	}
	return runSimulator(ctx, e, sim, "card HEX10", func(cmd, arg string) (bool, error) {
		if cmd != "card" {
			return false, nil
		}
		return true, sim.TapCard(arg)
	})
}

func simulateLine(ctx context.Context, e *env, o probeOptions) error {
	sim, err := devsim.NewLineReader(o.Dir)
	if err != nil {
		return err
	}
	return runSimulator(ctx, e, sim, "card TEXT", func(cmd, arg string) (bool, error) {
		if cmd != "card" {
			return false, nil
		}
		if arg == "" {
			return true, fmt.Errorf("card %w", errArg)
		}
		return true, sim.TapCard(arg)
	})
}

func simulatePulse(ctx context.Context, e *env, o probeOptions) error {
	sim, err := devsim.NewPulseBridge(o.Dir, 30*time.Millisecond)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "pulses are 30 ms with 30 ms pauses; coins end with 120 ms of silence (set pulse_gap between 60ms and 120ms, e.g. 90ms)")
	return runSimulator(ctx, e, sim, "coin PULSES", func(cmd, arg string) (bool, error) {
		if cmd != "coin" {
			return false, nil
		}
		n, err := strconv.Atoi(arg)
		if err != nil || n < 1 || n > 100 {
			return true, fmt.Errorf("coin: pulse count %q must be 1..100", arg)
		}
		return true, sim.InsertCoin(n)
	})
}

func simulateCCTalk(ctx context.Context, e *env, o probeOptions) error {
	coins := map[int]string{1: "EU010A", 2: "EU020A", 3: "EU050A", 4: "EU100A", 5: "EU200A"}
	sim, err := devsim.NewCCTalk(o.Dir, coins)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "coin positions: 1=EU010A 2=EU020A 3=EU050A 4=EU100A 5=EU200A")
	return runSimulator(ctx, e, sim, "coin POSITION, error CODE, reset", func(cmd, arg string) (bool, error) {
		switch cmd {
		case "coin":
			n, err := strconv.Atoi(arg)
			if err != nil || n < 1 || n > 16 {
				return true, fmt.Errorf("coin: position %q must be 1..16", arg)
			}
			if !sim.InsertCoin(n) {
				return true, fmt.Errorf("coin %d returned: acceptor inhibited or position not enabled", n)
			}
			return true, nil
		case "error":
			n, err := strconv.Atoi(arg)
			if err != nil || n < 1 || n > 255 {
				return true, fmt.Errorf("error: code %q must be 1..255", arg)
			}
			sim.Error(byte(n))
			return true, nil
		case "reset":
			sim.ResetDevice()
			return true, nil
		}
		return false, nil
	})
}
