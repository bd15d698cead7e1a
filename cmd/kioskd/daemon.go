package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/gdamore/tcell/v2"
	"golang.org/x/term"

	"github.com/printroom/voucherkiosk/api"
	"github.com/printroom/voucherkiosk/devices"
	"github.com/printroom/voucherkiosk/devices/bill"
	"github.com/printroom/voucherkiosk/kiosk"
	"github.com/printroom/voucherkiosk/kiosk/booking"
	"github.com/printroom/voucherkiosk/kiosk/config"
	"github.com/printroom/voucherkiosk/kiosk/control"
	"github.com/printroom/voucherkiosk/kiosk/journal"
	"github.com/printroom/voucherkiosk/kiosk/logging"
	"github.com/printroom/voucherkiosk/kiosk/monitor"
	"github.com/printroom/voucherkiosk/kiosk/pinlock"
	"github.com/printroom/voucherkiosk/kiosk/receipt"
	"github.com/printroom/voucherkiosk/kiosk/statedir"
	"github.com/printroom/voucherkiosk/kiosk/ui"
	"github.com/printroom/voucherkiosk/kiosk/voucherlink"
)

// daemonOptions is what runDaemon needs beyond the config: the demo adds
// its simulator keys and a finaliser.
type daemonOptions struct {
	cfg    *config.Config
	level  slog.Level
	stderr io.Writer
	screen tcell.Screen // nil: the real terminal
	footer []ui.FooterKey
	// banner is logged once at start (the demo says what it runs).
	banner string
	// quietLogFile: do not print where the log file is (the demo says it
	// itself, and that the file goes when the demo ends).
	quietLogFile bool
}

// shutdownBudget is how long SIGTERM may take in all: systemd's default stop
// timeout is far longer, but a kiosk must give its console back quickly.
const shutdownBudget = 4500 * time.Millisecond

// newLogger logs to stderr, unless stderr is the terminal the kiosk screen
// draws on: then to kioskd.log in the state directory, so log lines never
// scribble over what the student reads. Under systemd stderr is the journal:
// each line then carries its syslog priority.
func newLogger(stderr io.Writer, level slog.Level, stateDir string, quiet bool) (*slog.Logger, func(), error) {
	opts := &slog.HandlerOptions{Level: level}
	if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		path := filepath.Join(stateDir, "kioskd.log")
		lf, err := statedir.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return nil, nil, fmt.Errorf("open log file: %w", err)
		}
		if !quiet {
			fmt.Fprintf(stderr, "kioskd: logging to %s\n", path)
		}
		return slog.New(slog.NewTextHandler(lf, opts)), func() { lf.Close() }, nil
	}
	if f, ok := stderr.(*os.File); ok && logging.ToJournal(os.Getenv, f) {
		return slog.New(logging.NewJournalHandler(stderr, opts)), func() {}, nil
	}
	return slog.New(slog.NewTextHandler(stderr, opts)), func() {}, nil
}

func runDaemon(ctx context.Context, o daemonOptions) (err error) {
	cfg := o.cfg
	started := time.Now()
	stateDir := cfg.Kiosk.StateDir
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return fmt.Errorf("state directory: %w", err)
	}
	if err := statedir.Check(stateDir); err != nil {
		return err
	}
	log, closeLog, err := newLogger(o.stderr, o.level, stateDir, o.quietLogFile)
	if err != nil {
		return err
	}
	defer closeLog()
	log.Info("kioskd starting", "version", version, "kiosk", cfg.Kiosk.ID, "config", cfg.File, "state_dir", stateDir)
	if o.banner != "" {
		log.Info(o.banner)
	}

	// The metrics exist before the journal so its fsyncs are measured from
	// the first; the status they read is wired once the engine runs.
	d := &daemon{cfg: cfg, log: log, started: started}
	d.metrics = monitor.New(d.Status)
	j, err := journal.Open(journal.Options{Dir: stateDir, Log: log.With("part", "journal"), OnSync: d.metrics.Fsync})
	if err != nil {
		var re *journal.ReplayError
		if errors.As(err, &re) {
			return fmt.Errorf("%w\nThe kiosk will not start over a damaged journal: it holds money. "+
				"Inspect it with: kioskctl journal inspect --state-dir %s", err, stateDir)
		}
		return fmt.Errorf("journal: %w", err)
	}
	defer j.Close()
	snap := j.Ledger()

	client, err := api.New(api.Config{
		URL: cfg.MyQ.URL, ClientID: cfg.MyQ.ClientID, ClientSecret: cfg.MyQ.ClientSecret.Reveal(),
		CAFile: cfg.MyQ.CAFile, Provider: cfg.MyQ.Provider, Timeout: cfg.MyQ.RequestTimeout,
		Version: version, Log: log.With("part", "myq"),
	})
	if err != nil {
		return fmt.Errorf("myq: %w", err)
	}
	defer client.CloseIdleConnections()

	hw, err := buildHardware(cfg, snap, log)
	if err != nil {
		return err
	}
	cache, err := kiosk.OpenCardCache(filepath.Join(stateDir, "cards.cache"), log.With("part", "cardcache"))
	if err != nil {
		return fmt.Errorf("card cache: %w", err)
	}
	cache.SetTTL(cfg.Kiosk.CardCacheTTL)
	receiptKey, err := receipt.LoadOrCreateKey(cfg.Kiosk.ReceiptKeyFile)
	if err != nil {
		return fmt.Errorf("receipt key: %w", err)
	}

	d.journal, d.hw = j, hw
	// No OnBalance: the receipt's balance is the lookup's plus the amount
	// (kiosk engine), which saves a request per top-up.
	booker, err := booking.New(booking.Config{
		Client:       client,
		Journal:      j,
		KioskID:      cfg.Kiosk.ID,
		DrainSpacing: cfg.MyQ.DrainSpacing,
		Log:          log.With("part", "booking"),
		OnResult:     d.bookingResult,
		OnStatus:     d.queueStatus,
		OnAPIError:   d.metrics.APIError,
		OnCommitted:  d.metrics.Topup,
		Values:       hw.values, MaxTopup: cfg.Kiosk.MaxTopup,
	})
	if err != nil {
		return fmt.Errorf("booking: %w", err)
	}
	d.booker = booker
	vouchers, voucherRules, scanner, err := voucherParts(cfg, client, j, d.post, log)
	if err != nil {
		return err
	}
	if scanner != nil {
		hw.all = append(hw.all, scanner)
	}

	events := make(chan devices.Event, 64)
	acceptorNames := make([]string, 0, len(hw.acceptors))
	var escrowing []string // bill validators: a note waits in escrow before it stacks
	for _, a := range hw.acceptors {
		acceptorNames = append(acceptorNames, a.Name())
		if _, ok := a.(*bill.Validator); ok {
			escrowing = append(escrowing, a.Name())
		}
	}
	runner, err := kiosk.NewRunner(kiosk.RunnerConfig{
		Engine: kiosk.Config{
			KioskID: cfg.Kiosk.ID, Currency: cfg.Kiosk.Currency,
			MinTopup: cfg.Kiosk.MinTopup, MaxTopup: cfg.Kiosk.MaxTopup,
			IdleFinish: cfg.Kiosk.IdleFinish, CardTimeout: cfg.Kiosk.CardTimeout, MessageFor: cfg.Kiosk.ReceiptHold,
			Accepted: hw.accepted, CardReader: config.CardReaderName, AcceptorNames: acceptorNames,
			ClaimWindow: cfg.Kiosk.ClaimWindow, Escrowing: escrowing,
			OnCardPause: func(time.Duration) { d.metrics.CardPause() }, OnCardIgnored: d.metrics.CardIgnored,
			Log: log.With("part", "engine"), Voucher: voucherRules, Cashboxes: cashboxes(cfg, hw.acceptors),
		},
		Journal:       j,
		Restore:       kiosk.RestoredFrom(snap),
		Directory:     &directory{client: client, log: log},
		Booker:        booker,
		Acceptors:     hw.acceptors,
		Events:        events,
		Cache:         cache,
		Log:           log.With("part", "runner"),
		LookupTimeout: cfg.MyQ.RequestTimeout,
		Vouchers:      voucherlink.Service(vouchers),
	})
	if err != nil {
		return fmt.Errorf("engine: %w", err)
	}
	d.runner.Store(runner)

	pinLock, err := pinlock.Open(filepath.Join(stateDir, "technician-pin.lock"), pinlock.DefaultRule, time.Now)
	if pinLock == nil {
		return err
	}
	if err != nil {
		log.Warn("technician pin lockout", "err", err)
	}
	screen, err := ui.New(ui.Options{
		Screen: o.screen, Engine: runner, Languages: cfg.Kiosk.Languages, Currency: cfg.Kiosk.Currency,
		KioskID: cfg.Kiosk.ID, ReceiptKey: receiptKey, Technician: &technician{d: d},
		PINFile: cfg.Kiosk.TechnicianPINFile, Footer: o.footer, Log: log.With("part", "ui"),
		Greeting: cfg.Kiosk.Greeting, HideBalance: !cfg.Kiosk.ShowBalance,
		PINLock: pinLock, OnPINFailure: d.metrics.PINFailure,
		HighContrast: cfg.Kiosk.HighContrast,
	})
	if err != nil {
		return fmt.Errorf("screen: %w", err)
	}

	runtimeDir := os.Getenv("RUNTIME_DIRECTORY")
	if runtimeDir == "" {
		runtimeDir = stateDir
	}
	ctl, err := control.Listen(runtimeDir, d, log.With("part", "control"))
	if err != nil {
		return err
	}
	defer ctl.Close()
	if cfg.Monitor.Listen != "" {
		mon, err := monitor.Listen(monitor.Options{Addr: cfg.Monitor.Listen, AllowRemote: cfg.Monitor.AllowRemote,
			Metrics: d.metrics, Backend: d, Log: log.With("part", "monitor")})
		if err != nil {
			// Monitoring is optional: a busy port must not stop a kiosk
			// from taking money.
			log.Error("monitor not started", "err", err)
		} else {
			defer mon.Close()
			log.Info("monitor listening", "addr", mon.Addr())
		}
	}

	// Each part gets its own context so SIGTERM can stop them in order:
	// money intake first, then booking, then the screen.
	var wg sync.WaitGroup
	start := func(name string, f func(ctx context.Context) error) context.CancelFunc {
		pctx, cancel := context.WithCancel(context.Background())
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(pctx); err != nil && pctx.Err() == nil {
				log.Error("part stopped", "part", name, "err", err)
			}
		}()
		return cancel
	}
	stopBooker := start("booking", booker.Run)
	stopVouchers := start("vouchers", runVouchers(vouchers))
	stopRunner := start("engine", runner.Run)
	devCtx, stopDevices := context.WithCancel(context.Background())
	var devWG sync.WaitGroup
	for _, dev := range hw.all {
		wg.Add(1)
		devWG.Add(1)
		go func(dev devices.Device) {
			defer wg.Done()
			defer devWG.Done()
			if err := dev.Run(devCtx, events); err != nil && devCtx.Err() == nil {
				log.Error("device stopped: fix the config and restart", "device", dev.Name(), "err", err)
				select {
				case events <- devices.StatusChange{Device: dev.Name(), Status: devices.StatusFault, Detail: err.Error(), At: time.Now()}:
				case <-devCtx.Done():
				}
			}
		}(dev)
	}
	uiErr := make(chan error, 1)
	uiCtx, stopUI := context.WithCancel(context.Background())
	wg.Add(1)
	go func() {
		defer wg.Done()
		uiErr <- screen.Run(uiCtx)
	}()

	n := &notifier{log: log, status: d.statusLine, alive: func(ctx context.Context) error {
		if err := screen.Ping(ctx); err != nil {
			return fmt.Errorf("screen: %w", err)
		}
		if err := runner.Ping(ctx); err != nil {
			return fmt.Errorf("engine: %w", err)
		}
		// The journal is not asked here: a full disk puts the kiosk out of
		// service, and a restart would not free the disk but would drop
		// money the engine holds in memory until the journal heals.
		return nil
	}}
	stopNotify := start("notify", func(ctx context.Context) error { n.run(ctx); return nil })

	// READY once the screen answers: the devices were started above and
	// report themselves to the screen as they connect.
	// Ping is refused until Run has the terminal, so ask until it answers.
	readyBy := time.Now().Add(10 * time.Second)
	for ctx.Err() == nil && time.Now().Before(readyBy) {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		err := screen.Ping(pctx)
		cancel()
		if err == nil {
			n.ready()
			log.Info("kiosk ready", "startup", time.Since(started).Round(time.Millisecond))
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(10 * time.Millisecond):
		}
	}

	var runErr error
	select {
	case <-ctx.Done():
		log.Info("stopping: signal received")
	case runErr = <-uiErr:
		log.Error("screen failed", "err", runErr)
	}

	// Stop taking money, book or journal the current session, let booking
	// finish what is in flight, then stop everything. The journal already
	// holds every coin; this only decides how much is booked before exit.
	n.stopping()
	deadline := time.Now().Add(shutdownBudget)
	sctx, scancel := context.WithDeadline(context.Background(), deadline.Add(-2500*time.Millisecond))
	if err := runner.Shutdown(sctx); err != nil {
		log.Warn("engine shutdown", "err", err)
	}
	scancel()
	d.waitBookingSettled(deadline.Add(-1000 * time.Millisecond))
	stopDevices()
	// A coin a driver read just before it stopped may still sit in the
	// events channel: the engine journals it (or it is unclaimed cash)
	// before it stops, so no coin in the box goes unrecorded.
	drainBy := deadline.Add(-500 * time.Millisecond)
	// A pulse train in flight is finished (one pulse_gap of silence) and
	// journaled before exit: give the drivers that long, even past the budget.
	if by := time.Now().Add(longestPulseGap(cfg) + 250*time.Millisecond); by.After(drainBy) {
		drainBy, deadline = by, by.Add(500*time.Millisecond)
	}
	waitGroupUntil(&devWG, drainBy)
	for len(events) > 0 && time.Now().Before(drainBy) {
		time.Sleep(5 * time.Millisecond)
	}
	pctx2, pcancel2 := context.WithDeadline(context.Background(), drainBy)
	runner.Ping(pctx2) // answered only after the event taken before it was handled
	pcancel2()
	stopRunner()
	stopBooker()
	stopVouchers()
	stopUI()
	stopNotify()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Until(deadline)):
		log.Warn("some parts did not stop in time; exiting anyway (the journal is durable)")
	}
	st := booker.Status()
	log.Info("kioskd stopped", "pending", st.Pending, "needs_attention", st.NeedsAttention)
	return runErr
}

// longestPulseGap is the longest silence that ends a coin on any pulse
// acceptor: how long a stop may wait for a train to finish.
func longestPulseGap(cfg *config.Config) time.Duration {
	var d time.Duration
	for _, a := range cfg.Acceptors {
		if a.Protocol == config.ProtocolPulse && a.PulseGap > d {
			d = a.PulseGap
		}
	}
	return d
}

// waitGroupUntil waits for wg, or until the deadline.
func waitGroupUntil(wg *sync.WaitGroup, deadline time.Time) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Until(deadline)):
	}
}
