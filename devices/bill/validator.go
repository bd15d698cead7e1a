package bill

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/printroom/voucherkiosk/devices"
)

// Mode is the SSP line setting: 9600 8N2.
var Mode = devices.Mode{Baud: 9600, StopBits: devices.TwoStopBits}

// Config configures one validator.
type Config struct {
	Name string
	Port string
	// Values maps SSP channel (1-based) to its amount in minor units, as the
	// config writes it. The device's own table must agree.
	Values   map[int]int64
	Currency string // ISO code the device's dataset must report; "" skips the check
	// Learn takes the channel table from the device instead of Values (the
	// technician's probe only; the daemon never sets it).
	Learn      bool
	Encryption bool
	FixedKey   uint64 // eSSP fixed key; 0 means KeyHex, else DefaultFixedKey
	KeyHex     string // the fixed key as 16 hex digits
	// HoldLimit is how long a note waits in escrow for the engine's decision
	// before the driver rejects it. Default 8 s.
	HoldLimit    time.Duration
	PollInterval time.Duration // default 200 ms
	Timeout      time.Duration // per reply; default 500 ms
	Retries      int           // resends after a timeout; default 3
	// PendingNotes is how many notes of this device the engine has journaled
	// as pending (escrowed, not credited, not returned) at start.
	PendingNotes int
	// UnackedCredit: the journal's last note credit of this device may
	// not have reached the device as EVENT_ACK (a crash in between), so
	// the device may repeat it (journal.Ledger.Unacked). One bare credit
	// more then goes to the engine, which tells a repeat from a new note
	// (kiosk.Config.Escrowing must name this device).
	UnackedCredit bool
	Reconnect     time.Duration // between reopen attempts; default 1 s
	// JournalWait bounds how long a poll waits for the engine to journal a
	// credit before it polls on without EVENT_ACK; default 10 s.
	JournalWait time.Duration
	Open        devices.OpenFunc
	Log         *slog.Logger
}

// ConfigError says the device disagrees with the configuration: retrying
// cannot fix it. Run returns it.
type ConfigError struct {
	Channel    int
	Configured string
	Reported   string
}

func (e *ConfigError) Error() string {
	if e.Channel == 0 {
		return fmt.Sprintf("ssp: config mismatch: configured %s, device reports %s", e.Configured, e.Reported)
	}
	return fmt.Sprintf("ssp: config mismatch on channel %d: configured %s, device reports %s", e.Channel, e.Configured, e.Reported)
}

// Info is what the device told us at start-up, for the technician.
type Info struct {
	Setup       Setup
	Protocol    int  // the protocol version agreed with HOST_PROTOCOL_VERSION
	Encrypted   bool // eSSP in use
	PollWithAck bool // POLL_WITH_ACK + EVENT_ACK in use
}

type decision int

const (
	undecided decision = iota
	decidedStack
	decidedReject
)

// note is the driver's one outstanding note: in escrow, or stacking and
// waiting for its CREDIT. It survives reconnects (the Validator owns it).
type note struct {
	id      string // "" for a note the driver refused on its own (unknown channel)
	ch      int
	amount  int64
	decide  chan devices.EscrowDecision
	dec     decision
	since   time.Time
	escrow  bool // held in escrow as far as we know
	seen    bool // confirmed by the device in this port session
	rejSent bool
}

// Validator is an ITL SSP/eSSP bill validator with escrow.
type Validator struct {
	cfg       Config
	fixedKey  uint64
	log       *slog.Logger
	accepting atomic.Bool
	wake      chan struct{}
	running   atomic.Bool

	mu   sync.Mutex
	info Info

	// Owned by the Run goroutine.
	out      chan<- devices.Event
	values   map[int]int64
	cur      *note
	budget   int     // unknown CREDITs we may still attribute to the engine's pending notes
	verify   bool    // after a (re)connect: settle what the device no longer shows
	unacked  []Event // handled events that need EVENT_ACK, not yet acknowledged
	repeated []Event // scratch for dropRepeats
	// journaled holds one channel per credit of the current poll, closed
	// by the engine (devices.Credit.Ack) once the credit is durable.
	journaled  []chan struct{}
	ack        bool // POLL_WITH_ACK in use
	applied    int  // -1 unknown, 0 disabled, 1 enabled
	lastAlarms map[string]bool
}

var _ devices.Acceptor = (*Validator)(nil)

// New checks cfg and returns a validator that starts inhibited.
func New(cfg Config) (*Validator, error) {
	if cfg.Name == "" {
		return nil, errors.New("ssp: config: name is empty")
	}
	if cfg.Port == "" {
		return nil, fmt.Errorf("ssp %s: config: port is empty", cfg.Name)
	}
	if len(cfg.Values) == 0 && !cfg.Learn {
		return nil, fmt.Errorf("ssp %s: config: no channel values", cfg.Name)
	}
	for ch, v := range cfg.Values {
		if ch < 1 || ch > 16 {
			return nil, fmt.Errorf("ssp %s: config: channel %d out of range 1..16", cfg.Name, ch)
		}
		if v <= 0 {
			return nil, fmt.Errorf("ssp %s: config: channel %d has value %d, want > 0", cfg.Name, ch, v)
		}
	}
	if cfg.PendingNotes < 0 {
		return nil, fmt.Errorf("ssp %s: config: pending notes %d < 0", cfg.Name, cfg.PendingNotes)
	}
	fixed := cfg.FixedKey
	if fixed == 0 && cfg.KeyHex != "" {
		k, err := ParseKeyHex(cfg.KeyHex)
		if err != nil {
			return nil, fmt.Errorf("ssp %s: config: %w", cfg.Name, err)
		}
		fixed = k
	}
	if fixed == 0 {
		fixed = DefaultFixedKey
	}
	if cfg.HoldLimit <= 0 {
		cfg.HoldLimit = 8 * time.Second
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 200 * time.Millisecond
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 500 * time.Millisecond
	}
	if cfg.Retries <= 0 {
		cfg.Retries = 3
	}
	if cfg.JournalWait <= 0 {
		cfg.JournalWait = journalWait
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	v := &Validator{cfg: cfg, fixedKey: fixed, log: log.With("device", cfg.Name), wake: make(chan struct{}, 1)}
	v.values = map[int]int64{}
	for ch, a := range cfg.Values {
		v.values[ch] = a
	}
	return v, nil
}

func (v *Validator) Name() string     { return v.cfg.Name }
func (v *Validator) CanInhibit() bool { return true }

// SetAccepting enables or inhibits note intake on the next exchange.
func (v *Validator) SetAccepting(on bool) {
	v.accepting.Store(on)
	select {
	case v.wake <- struct{}{}:
	default:
	}
}

// Info returns what the device reported at the last start-up.
func (v *Validator) Info() Info {
	v.mu.Lock()
	defer v.mu.Unlock()
	i := v.info
	i.Setup.Channels = append([]Channel(nil), i.Setup.Channels...)
	return i
}

// Run talks to the validator until ctx ends. It returns a *ConfigError when
// the device's channel table or currency disagrees with the config.
func (v *Validator) Run(ctx context.Context, out chan<- devices.Event) error {
	if !v.running.CompareAndSwap(false, true) {
		return fmt.Errorf("ssp %s: Run called twice", v.cfg.Name)
	}
	defer v.running.Store(false)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	v.out = out
	v.budget = v.cfg.PendingNotes
	if v.cfg.UnackedCredit {
		v.budget++
	}
	var fatal error
	err := devices.Keep(ctx, devices.KeepConfig{
		Device: v.cfg.Name, Path: v.cfg.Port, Mode: Mode, Open: v.cfg.Open, Retry: v.cfg.Reconnect, Log: v.log,
		Status: func(sc devices.StatusChange) { v.emit(ctx, sc) },
	}, func(sctx context.Context, p devices.Port) error {
		err := v.session(sctx, p)
		var ce *ConfigError
		if errors.As(err, &ce) {
			fatal = err
			v.emit(ctx, devices.StatusChange{Device: v.cfg.Name, Status: devices.StatusConfigMismatch, Detail: err.Error(), At: time.Now()})
			cancel()
		}
		return err
	})
	if fatal != nil {
		return fatal
	}
	return err
}

// emit sends ev unless ctx ends first; false means it was not delivered.
func (v *Validator) emit(ctx context.Context, ev devices.Event) bool {
	select {
	case v.out <- ev:
		return true
	case <-ctx.Done():
		return false
	}
}

func (v *Validator) status(ctx context.Context, s devices.Status, detail string) bool {
	return v.emit(ctx, devices.StatusChange{Device: v.cfg.Name, Status: s, Detail: detail, At: time.Now()})
}

func (v *Validator) session(ctx context.Context, p devices.Port) error {
	l := &link{p: p, timeout: v.cfg.Timeout, retries: v.cfg.Retries,
		log: func(msg string, args ...any) { v.log.Debug(msg, args...) }}
	if err := v.startup(ctx, l); err != nil {
		return err
	}
	return v.loop(ctx, l)
}

// startup runs the handshake: SYNC, key exchange, protocol version, setup
// check, channel inhibits, then ENABLE or DISABLE. It runs again after the
// device resets itself.
func (v *Validator) startup(ctx context.Context, l *link) error {
	if err := l.sync(ctx); err != nil {
		return err
	}
	if v.cfg.Encryption {
		if err := l.keyExchange(ctx, v.fixedKey); err != nil {
			return err
		}
	}
	proto := 0
	for ver := 8; ver >= 4; ver-- {
		r, err := l.do(ctx, []byte{byte(CmdHostProtocol), byte(ver)})
		if err != nil {
			return fmt.Errorf("ssp: HOST_PROTOCOL_VERSION %d: %w", ver, err)
		}
		if Response(r[0]) == RespOK {
			proto = ver
			break
		}
	}
	if proto == 0 {
		return errors.New("ssp: device accepts no protocol version from 8 down to 4")
	}
	r, err := l.do(ctx, []byte{byte(CmdSetupRequest)})
	if err != nil {
		return fmt.Errorf("ssp: SETUP_REQUEST: %w", err)
	}
	setup, err := ParseSetup(r)
	if err != nil {
		return err
	}
	if err := v.checkSetup(setup); err != nil {
		return err
	}
	var mask uint16
	for ch := range v.values {
		if ch <= 16 {
			mask |= 1 << (ch - 1)
		}
	}
	r, err = l.do(ctx, []byte{byte(CmdSetChannelInhibits), byte(mask), byte(mask >> 8)})
	if err != nil {
		return fmt.Errorf("ssp: SET_CHANNEL_INHIBITS: %w", err)
	}
	if Response(r[0]) != RespOK {
		return fmt.Errorf("ssp: SET_CHANNEL_INHIBITS: device answered %s", Response(r[0]))
	}
	v.ack = proto >= 6 // confirmed or withdrawn by the first poll
	v.mu.Lock()
	v.info = Info{Setup: setup, Protocol: proto, Encrypted: l.cipher != nil, PollWithAck: v.ack}
	v.mu.Unlock()
	v.log.Info("ssp: validator ready", "firmware", setup.Firmware, "currency", setup.Country,
		"protocol", proto, "channels", len(setup.Channels), "encrypted", l.cipher != nil)

	// What we knew before this connection must be re-confirmed by the device.
	v.verify = v.cur != nil || v.budget > 0
	if c := v.cur; c != nil {
		c.seen = false
		if err := v.recheckNote(ctx, l, c); err != nil {
			return err
		}
	}
	v.applied = -1
	return v.applyAccepting(ctx, l)
}

// recheckNote asks the device about the outstanding note after a reconnect:
// HOLD (undecided) and REJECT only succeed with a note in escrow.
func (v *Validator) recheckNote(ctx context.Context, l *link, c *note) error {
	if !c.escrow || c.dec == decidedStack {
		return nil
	}
	cmd := CmdHold
	if c.dec == decidedReject {
		cmd = CmdReject
	}
	r, err := l.do(ctx, []byte{byte(cmd)})
	if err != nil {
		return fmt.Errorf("ssp: %s: %w", cmd, err)
	}
	if Response(r[0]) == RespOK {
		c.seen = true
		c.rejSent = cmd == CmdReject
	} else {
		c.escrow = false
	}
	return nil
}

func (v *Validator) checkSetup(s Setup) error {
	if v.cfg.Currency != "" && len(v.cfg.Values) > 0 {
		for ch := range v.cfg.Values {
			if ch <= len(s.Channels) && s.Channels[ch-1].Currency != v.cfg.Currency {
				return &ConfigError{Channel: ch, Configured: "currency " + v.cfg.Currency, Reported: "currency " + s.Channels[ch-1].Currency}
			}
		}
	}
	if v.cfg.Learn && len(v.cfg.Values) == 0 {
		for _, c := range s.Channels {
			if c.Number <= 16 {
				v.values[c.Number] = c.Value
			}
		}
		return nil
	}
	chs := make([]int, 0, len(v.cfg.Values))
	for ch := range v.cfg.Values {
		chs = append(chs, ch)
	}
	sort.Ints(chs)
	for _, ch := range chs {
		want := v.cfg.Values[ch]
		if ch > len(s.Channels) {
			return &ConfigError{Channel: ch, Configured: strconv.FormatInt(want, 10), Reported: fmt.Sprintf("no such channel (%d channels)", len(s.Channels))}
		}
		if got := s.Channels[ch-1].Value; got != want {
			return &ConfigError{Channel: ch, Configured: strconv.FormatInt(want, 10), Reported: strconv.FormatInt(got, 10)}
		}
	}
	return nil
}

func (v *Validator) applyAccepting(ctx context.Context, l *link) error {
	want := 0
	if v.accepting.Load() {
		want = 1
	}
	if want == v.applied {
		return nil
	}
	cmd := CmdDisable
	if want == 1 {
		cmd = CmdEnable
	}
	r, err := l.do(ctx, []byte{byte(cmd)})
	if err != nil {
		return fmt.Errorf("ssp: %s: %w", cmd, err)
	}
	if Response(r[0]) != RespOK {
		return fmt.Errorf("ssp: %s: device answered %s", cmd, Response(r[0]))
	}
	v.applied = want
	return nil
}

// errRestart asks the loop to run the start-up again (device reset, key lost).
var errRestart = errors.New("ssp: device needs start-up again")

func (v *Validator) loop(ctx context.Context, l *link) error {
	t := time.NewTicker(v.cfg.PollInterval)
	defer t.Stop()
	for {
		err := v.step(ctx, l)
		if errors.Is(err, errRestart) {
			err = v.startup(ctx, l)
		}
		if err != nil {
			return err
		}
		var decide chan devices.EscrowDecision
		if c := v.cur; c != nil && c.escrow && c.dec == undecided {
			decide = c.decide
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-v.wake:
		case d := <-decide:
			v.cur.setDecision(d)
		}
	}
}

func (c *note) setDecision(d devices.EscrowDecision) {
	if c.dec != undecided {
		return
	}
	if d == devices.Stack {
		c.dec = decidedStack
	} else {
		c.dec = decidedReject
	}
}

// step is one exchange: apply inhibit changes, hold or reject the note in
// escrow, or poll.
func (v *Validator) step(ctx context.Context, l *link) error {
	if err := v.applyAccepting(ctx, l); err != nil {
		return err
	}
	if c := v.cur; c != nil && c.escrow {
		if c.dec == undecided {
			select {
			case d := <-c.decide:
				c.setDecision(d)
			default:
			}
		}
		if c.dec == undecided && time.Since(c.since) > v.cfg.HoldLimit {
			v.log.Warn("ssp: no escrow decision within the hold limit: rejecting", "note", c.id, "limit", v.cfg.HoldLimit)
			c.dec = decidedReject
		}
		switch {
		case c.dec == undecided:
			r, err := l.do(ctx, []byte{byte(CmdHold)})
			if err != nil {
				return fmt.Errorf("ssp: HOLD: %w", err)
			}
			if Response(r[0]) == RespKeyNotSet {
				return v.keyNotSet(ctx)
			}
			if Response(r[0]) == RespOK {
				return nil
			}
			// Not in escrow any more: let the polls say what happened.
			c.escrow, c.seen = false, false
			v.verify = true
		case c.dec == decidedReject && !c.rejSent:
			r, err := l.do(ctx, []byte{byte(CmdReject)})
			if err != nil {
				return fmt.Errorf("ssp: REJECT: %w", err)
			}
			c.rejSent = true
			if Response(r[0]) == RespKeyNotSet {
				return v.keyNotSet(ctx)
			}
			if Response(r[0]) != RespOK {
				c.escrow, c.seen = false, false
				v.verify = true
			}
		}
	}
	return v.poll(ctx, l)
}

func (v *Validator) keyNotSet(ctx context.Context) error {
	v.status(ctx, devices.StatusFault, "key not set")
	return errRestart
}

func (v *Validator) poll(ctx context.Context, l *link) error {
	cmd := CmdPoll
	if v.ack {
		cmd = CmdPollWithAck
	}
	r, err := l.do(ctx, []byte{byte(cmd)})
	if err != nil {
		return fmt.Errorf("ssp: %s: %w", cmd, err)
	}
	if cmd == CmdPollWithAck && (Response(r[0]) == RespUnknownCommand || Response(r[0]) == RespKeyNotSet && l.cipher == nil) {
		// Unknown to older firmware; refused in plain where ITL's table says
		// it requires encryption.
		v.log.Info("ssp: device takes no POLL_WITH_ACK here; using POLL", "answer", Response(r[0]))
		v.ack = false
		v.mu.Lock()
		v.info.PollWithAck = false
		v.mu.Unlock()
		return v.poll(ctx, l)
	}
	if Response(r[0]) == RespKeyNotSet {
		return v.keyNotSet(ctx)
	}
	evs, perr := ParseEvents(r)
	if perr != nil {
		// Never acknowledge a reply we did not fully read: a CREDIT may sit
		// behind the event we could not parse. Handle what we understood,
		// raise a fault and poll on; the device repeats what needs an ACK.
		v.log.Warn("ssp: poll reply not understood: not acknowledging it", "err", perr, "reply", fmt.Sprintf("% X", r))
		detail := perr.Error()
		if !v.ack {
			// Plain POLL repeats nothing: what followed is gone.
			detail += ": events after it are lost (plain POLL); count the cash box"
		}
		if !v.status(ctx, devices.StatusFault, detail) {
			return nil
		}
	}
	fresh := evs
	if v.ack {
		fresh = v.dropRepeats(evs)
	}
	restart, delivered := v.handle(ctx, fresh, perr == nil)
	if !delivered {
		return nil // ctx ended: do not ACK what the engine never saw
	}
	if v.ack {
		// Handled: until the device takes our EVENT_ACK, its repeats of
		// these events are known as repeats, even if the ACK waits.
		for _, e := range fresh {
			if e.Code.needsAck() {
				v.unacked = append(v.unacked, e)
			}
		}
	}
	// EVENT_ACK makes the device forget its credits: send it only once the
	// engine has journaled them, so a crash in between leaves the device
	// repeating the credit for the next start to book.
	if !v.awaitJournaled(ctx) {
		return nil
	}
	if !v.ack {
		v.unacked = nil
	} else {
		if perr == nil && len(v.unacked) > 0 {
			r, err := l.do(ctx, []byte{byte(CmdEventAck)})
			if err != nil {
				return fmt.Errorf("ssp: EVENT_ACK: %w", err)
			}
			if Response(r[0]) == RespOK || Response(r[0]) == RespCannotProcess {
				v.unacked = nil
			}
		}
	}
	if restart {
		return errRestart
	}
	return nil
}

// dropRepeats removes from a POLL_WITH_ACK reply the events the device
// repeats because our EVENT_ACK did not reach it: event by event, since only
// the events that need an ACK repeat and new ones arrive beside them. A note
// action (READ, STACKING, REJECTING) proves the device took our ACK: ITL's
// devices allow no further note action until the ACK.
func (v *Validator) dropRepeats(evs []Event) []Event {
	var fresh []Event
	for _, e := range evs {
		switch {
		case e.Code == EvRead || e.Code == EvStacking || e.Code == EvRejecting:
			v.unacked = nil
		case e.Code.needsAck():
			if i := slices.Index(v.unacked, e); i >= 0 {
				v.log.Debug("ssp: event repeated until EVENT_ACK: already handled", "event", e)
				v.unacked = slices.Delete(v.unacked, i, i+1)
				// Still unacknowledged: keep it for the ACK below.
				v.repeated = append(v.repeated, e)
				continue
			}
		}
		fresh = append(fresh, e)
	}
	v.unacked = append(v.unacked, v.repeated...)
	v.repeated = v.repeated[:0]
	return fresh
}

// handle turns one poll's events into devices events. It reports whether the
// device reset (start-up must run again) and whether every event reached the
// engine. A reply not fully understood (complete false) proves nothing about
// what the device holds.
func (v *Validator) handle(ctx context.Context, evs []Event, complete bool) (restart, ok bool) {
	now := time.Now()
	quiet := complete
	alarms := map[string]bool{}
	send := func(ev devices.Event) bool {
		if !ok {
			return false
		}
		ok = v.emit(ctx, ev)
		return ok
	}
	ok = true
	alarm := func(s devices.Status, detail string) {
		alarms[detail] = true
		if !v.lastAlarms[detail] {
			send(devices.StatusChange{Device: v.cfg.Name, Status: s, Detail: detail, At: now})
		}
	}
	for _, e := range evs {
		switch e.Code {
		case EvRead:
			quiet = false
			if e.Channel > 0 {
				v.escrowed(ctx, e.Channel, now, send)
			}
		case EvStacking, EvStacked, EvRejecting:
			quiet = false
			if c := v.cur; c != nil && e.Code == EvStacking {
				c.escrow = false
			}
		case EvCredit, EvClearedToCashbox:
			quiet = false
			v.credited(ctx, e.Channel, now, send)
		case EvRejected, EvClearedFromFront:
			quiet = false
			if c := v.cur; c != nil {
				if c.id != "" {
					send(devices.NoteReturned{Device: v.cfg.Name, NoteID: c.id, At: now})
				}
				v.cur = nil
			}
			send(devices.StatusChange{Device: v.cfg.Name, Status: devices.StatusNoteRejected, Detail: e.Code.String(), At: now})
		case EvSlaveReset:
			send(devices.StatusChange{Device: v.cfg.Name, Status: devices.StatusReset, Detail: "slave reset", At: now})
			restart = true
		case EvSafeJam:
			alarm(devices.StatusJammed, "safe jam")
		case EvUnsafeJam:
			alarm(devices.StatusJammed, "unsafe jam")
		case EvFraudAttempt:
			alarm(devices.StatusFraudAttempt, fmt.Sprintf("fraud attempt on channel %d", e.Channel))
		case EvStackerFull:
			alarm(devices.StatusStackerFull, "stacker full")
		case EvCashboxRemoved:
			alarm(devices.StatusCashboxRemoved, "cash box removed")
		case EvCashboxReplaced:
			alarm(devices.StatusOK, "cash box replaced")
		case EvNotePathOpen:
			alarm(devices.StatusFault, "note path open")
		case EvDisabled:
			if v.applied == 1 {
				alarm(devices.StatusFault, "disabled by the device")
			} else {
				alarm(devices.StatusOK, "disabled")
			}
		case EvKeyNotSetResponse:
			alarm(devices.StatusFault, "key not set")
			restart = true
		}
	}
	if len(v.lastAlarms) > 0 && len(alarms) == 0 {
		send(devices.StatusChange{Device: v.cfg.Name, Status: devices.StatusOK, Detail: "alarms cleared", At: now})
	}
	if ok {
		v.lastAlarms = alarms
	}
	if quiet && v.verify && ok {
		// The device is up, holds no note and has no credit to report:
		// whatever we were waiting for across the disconnect went back.
		if c := v.cur; c != nil && !c.seen && !c.escrow {
			if c.id != "" {
				send(devices.NoteReturned{Device: v.cfg.Name, NoteID: c.id, At: now})
			}
			v.cur = nil
		}
		if v.cur == nil {
			if v.budget > 0 {
				send(devices.NoteReturned{Device: v.cfg.Name, NoteID: "", At: now})
				v.budget = 0
			}
			v.verify = false
		}
	}
	return restart, ok
}

// escrowed handles READ with a channel: a note waiting for our decision.
func (v *Validator) escrowed(ctx context.Context, ch int, now time.Time, send func(devices.Event) bool) {
	if c := v.cur; c != nil {
		if c.ch == ch {
			c.seen, c.escrow = true, true
			if c.dec == decidedReject {
				c.rejSent = false // still there: reject again
			}
			return
		}
		// A different note in escrow: ours is gone.
		if c.id != "" {
			send(devices.NoteReturned{Device: v.cfg.Name, NoteID: c.id, At: now})
		}
		v.cur = nil
	}
	amount, known := v.values[ch]
	c := &note{ch: ch, amount: amount, since: now, escrow: true, seen: true, decide: make(chan devices.EscrowDecision, 1)}
	v.cur = c
	if !known {
		// Inhibits should make this impossible; refuse the note ourselves.
		c.dec = decidedReject
		send(devices.StatusChange{Device: v.cfg.Name, Status: devices.StatusFault, Detail: fmt.Sprintf("note on unconfigured channel %d: rejecting", ch), At: now})
		return
	}
	c.id = fmt.Sprintf("%s-%d", v.cfg.Name, now.UnixNano())
	send(devices.Escrow{Device: v.cfg.Name, NoteID: c.id, Key: strconv.Itoa(ch), Amount: amount, Decide: c.decide, At: now})
}

// journalWait bounds how long a poll waits for the engine to journal a
// credit before it stops waiting; the credit is in the engine's hands by
// then (only slow), so the poll goes on without acknowledging it.
const journalWait = 10 * time.Second

// awaitJournaled waits until the engine journaled every credit handed over
// and not yet acknowledged (this poll's, and an earlier poll's that timed
// out). false: ctx ended or the engine is too slow; do not EVENT_ACK now.
func (v *Validator) awaitJournaled(ctx context.Context) bool {
	if len(v.journaled) == 0 {
		return true
	}
	defer func() {
		// Keep only what is still not journaled.
		left := v.journaled[:0]
		for _, ch := range v.journaled {
			select {
			case <-ch:
			default:
				left = append(left, ch)
			}
		}
		v.journaled = left
	}()
	t := time.NewTimer(v.cfg.JournalWait)
	defer t.Stop()
	for _, ch := range v.journaled {
		select {
		case <-ch:
		case <-ctx.Done():
			return false
		case <-t.C:
			v.log.Error("ssp: the engine has not journaled a credit yet; not acknowledging it to the device")
			return false
		}
	}
	return true
}

// credit builds the Credit event whose Ack releases EVENT_ACK.
func (v *Validator) credit(amount int64, ch int, noteID string, now time.Time) devices.Credit {
	done := make(chan struct{})
	var once sync.Once
	v.journaled = append(v.journaled, done)
	return devices.Credit{Device: v.cfg.Name, Amount: amount, Key: strconv.Itoa(ch), NoteID: noteID, At: now,
		Ack: func() { once.Do(func() { close(done) }) }}
}

// credited handles CREDIT: the note is in the box and the money is taken.
func (v *Validator) credited(ctx context.Context, ch int, now time.Time, send func(devices.Event) bool) {
	amount, known := v.values[ch]
	c := v.cur
	switch {
	case !known:
		send(devices.UnrecognisedCash{Device: v.cfg.Name, What: fmt.Sprintf("note on unconfigured channel %d", ch), At: now})
		if c != nil && c.ch == ch {
			v.cur = nil
		}
	case c != nil && c.ch == ch:
		send(v.credit(amount, ch, c.id, now))
		v.cur = nil
	default:
		// Without an identity the engine decides (kiosk.Engine's bare
		// credit rule): a note pending from before a restart, a repeat of
		// the journal's last credit, or a discrepancy for the cash-up. It
		// is never dropped here: the note is in the box, and EVENT_ACK waits
		// for its record as for any credit.
		if v.budget > 0 {
			v.budget--
		} else {
			// Every note the engine lets us stack is journaled as pending
			// first, so no note explains this credit.
			v.log.Error("ssp: credit without a pending note", "channel", ch)
			send(devices.StatusChange{Device: v.cfg.Name, Status: devices.StatusFault,
				Detail: fmt.Sprintf("credit on channel %d without a pending note: count the cash box", ch), At: now})
		}
		send(v.credit(amount, ch, "", now))
	}
}
