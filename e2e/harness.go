// Package e2e owns the end-to-end proof of the kiosk: the real kioskd binary
// on a real terminal (a tmux pane, 80x24, TERM=xterm-256color) with simulated
// serial devices on ptys and the fake MyQ over HTTPS, and the harness
// cmd/kioskbench reuses to measure the daemon from outside.
// See docs/ARCHITECTURE.md for its place among the packages.
//
// The harness reads the screen the way a student does: `tmux capture-pane`
// gives the text tmux's terminal emulator drew from kioskd's escape sequences,
// so an assertion here fails when the student would see something else.
// tmux was chosen over a Go vt100 parser because it is a maintained, complete
// terminal emulator already installed by .ci/run, and with remain-on-exit it
// keeps what a dead kioskd printed. The pane's shell waits for kioskd and
// writes its exit status to a file (tmux drops pane_dead_status when a
// respawned pane dies at once); kioskd's pid is that shell's child.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/printroom/voucherkiosk/api"
	"github.com/printroom/voucherkiosk/api/myqfake"
	"github.com/printroom/voucherkiosk/devices/devsim"
	"github.com/printroom/voucherkiosk/devices/devsim/sspsim"
	"github.com/printroom/voucherkiosk/kiosk/control"
	"github.com/printroom/voucherkiosk/kiosk/journal"
	"github.com/printroom/voucherkiosk/kiosk/ui"
)

// TB is the part of testing.TB the harness needs, so the bench command can
// drive it without the testing package.
type TB interface {
	Helper()
	Logf(format string, args ...any)
	Fatalf(format string, args ...any)
	Cleanup(func())
}

// Screen geometry of the kiosk's terminal.
const (
	Cols = 80
	Rows = 24
)

// Waits are generous: the machine may be loaded; a wait ends as soon as the
// condition holds, so a long limit costs nothing when things work.
var (
	ScreenWait = 15 * time.Second
	LedgerWait = 30 * time.Second
)

// ClientID and ClientSecret are the REST application the harness registers
// in its fake MyQ.
const (
	ClientID     = "kiosk-e2e"
	ClientSecret = "e2e-secret-0123456789"
)

// Users are the MyQ users every harness fake holds. Card numbers are the
// 10-digit decimals the default transform makes of an RDM6300 frame.
func Users() []myqfake.User {
	return []myqfake.User{
		{ID: 101, Username: "jnovak", FullName: "Jana Novakova", Email: "jana@example.edu", Cards: []string{"0012345678"}, Balance: 320},
		{ID: 102, Username: "psmith", FullName: "Peter Smith", Email: "peter@example.edu", Cards: []string{"0087654321"}, Balance: 0},
	}
}

// UnknownCard is a card no user has.
const UnknownCard = "0000999999"

// Options choose the devices and timers of one kiosk.
type Options struct {
	Pulse  bool // a pulse coin acceptor "coins": PulseCoins
	CCTalk bool // a ccTalk acceptor "cctalk-coins": positions 1→0.50, 2→1.00, 3→2.00
	Notes  bool // an eSSP validator "notes": channels 1→5.00, 2→10.00, 3→20.00

	IdleFinish  string        // "" → "20s"
	CardTimeout string        // "" → "30s"
	PulseWidth  time.Duration // the simulator's pulse width; 0 → 20ms
	PulseGap    string        // the driver's pulse_gap; "" → "300ms"
	CoinGap     time.Duration // the simulator's silence after a coin; 0 → 600ms
	LogLevel    string        // "" → "debug"
	// Kioskd is the binary to run.
	Kioskd string
	// NotifySocket, when set, is passed as NOTIFY_SOCKET (sd_notify).
	NotifySocket string
	// TechnicianPIN, when set, is stored (hashed) as the technician_pin_file.
	TechnicianPIN string
}

// Kiosk is one kioskd under test with its world: fake MyQ, simulators,
// config, state directory and the tmux server that is its terminal.
type Kiosk struct {
	t    TB
	opts Options

	Dir        string
	StateDir   string
	ConfigPath string
	Config     string // the TOML text written
	PINFile    string // the technician PIN's hash, when Options.TechnicianPIN

	Fake   *myqfake.Server
	MyQ    *myqfake.Running
	Reader *devsim.RDM6300
	Coins  *devsim.PulseBridge
	CCTalk *devsim.CCTalk
	Notes  *sspsim.Sim

	sock       string // tmux -L name
	socketPath string // where tmux put it, removed at Close
	tmuxCfg    string
	started    bool
}

// New builds the world of one kiosk (fake MyQ, simulators, config) without
// starting kioskd. Everything is torn down by t.Cleanup.
func New(t TB, o Options) *Kiosk {
	t.Helper()
	if o.Kioskd == "" {
		t.Fatalf("e2e: Options.Kioskd: no kioskd binary")
	}
	if o.IdleFinish == "" {
		o.IdleFinish = "20s"
	}
	if o.CardTimeout == "" {
		o.CardTimeout = "30s"
	}
	if o.PulseWidth == 0 {
		o.PulseWidth = 20 * time.Millisecond
	}
	if o.PulseGap == "" {
		o.PulseGap = "300ms"
	}
	if o.CoinGap == 0 {
		o.CoinGap = 600 * time.Millisecond
	}
	if o.LogLevel == "" {
		o.LogLevel = "debug"
	}
	// A short directory: unix socket paths are limited to 108 bytes and
	// t.TempDir() names can be long.
	dir, err := os.MkdirTemp("", "kiosk-e2e-")
	if err != nil {
		t.Fatalf("e2e: temp dir: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	k := &Kiosk{t: t, opts: o, Dir: dir, StateDir: filepath.Join(dir, "state")}
	k.newSocket()
	t.Cleanup(k.Close)

	k.Fake = myqfake.New(myqfake.Options{})
	k.Fake.AddClient(ClientID, ClientSecret, myqfake.DemoScope)
	for _, u := range Users() {
		k.Fake.AddUser(u)
	}
	k.MyQ, err = k.Fake.Start(true)
	if err != nil {
		t.Fatalf("e2e: start fake MyQ: %v", err)
	}
	caFile, err := k.MyQ.WriteCAFile(dir)
	if err != nil {
		t.Fatalf("e2e: %v", err)
	}
	secretFile := filepath.Join(dir, "myq-client-secret")
	if err := os.WriteFile(secretFile, []byte(ClientSecret+"\n"), 0o600); err != nil {
		t.Fatalf("e2e: secret file: %v", err)
	}

	devDir := filepath.Join(dir, "dev")
	if err := os.Mkdir(devDir, 0o700); err != nil {
		t.Fatalf("e2e: %v", err)
	}
	if k.Reader, err = devsim.NewRDM6300(devDir); err != nil {
		t.Fatalf("e2e: card reader simulator: %v", err)
	}
	if o.Pulse {
		if k.Coins, err = devsim.NewPulseBridge(devDir, o.PulseWidth); err != nil {
			t.Fatalf("e2e: pulse simulator: %v", err)
		}
		k.Coins.SetCoinGap(o.CoinGap)
	}
	if o.CCTalk {
		if k.CCTalk, err = devsim.NewCCTalk(devDir, map[int]string{1: "EU050A", 2: "EU100A", 3: "EU200A"}); err != nil {
			t.Fatalf("e2e: ccTalk simulator: %v", err)
		}
	}
	if o.Notes {
		if k.Notes, err = sspsim.New(devDir, sspsim.Options{Channels: []int64{500, 1000, 2000}, Currency: "EUR", Encryption: true}); err != nil {
			t.Fatalf("e2e: SSP simulator: %v", err)
		}
	}

	if o.TechnicianPIN != "" {
		k.PINFile = filepath.Join(dir, "technician-pin")
		if err := ui.WritePINFile(k.PINFile, o.TechnicianPIN); err != nil {
			t.Fatalf("e2e: %v", err)
		}
	}
	k.Config = k.configText(caFile, secretFile)
	k.ConfigPath = filepath.Join(dir, "kioskd.toml")
	if err := os.WriteFile(k.ConfigPath, []byte(k.Config), 0o644); err != nil {
		t.Fatalf("e2e: write config: %v", err)
	}
	k.tmuxCfg = filepath.Join(dir, "tmux.conf")
	// remain-on-exit keeps a dead kioskd's last screen and exit status;
	// no status line, so the pane is the whole 80x24 terminal.
	tmuxConf := "set -g remain-on-exit on\nset -g status off\nset -g default-terminal xterm-256color\n" +
		"set -sg escape-time 0\nset -g history-limit 100\n"
	if err := os.WriteFile(k.tmuxCfg, []byte(tmuxConf), 0o600); err != nil {
		t.Fatalf("e2e: %v", err)
	}
	return k
}

func (k *Kiosk) newSocket() {
	// -L names a socket in tmux's per-user directory: unique per kiosk.
	var rb [6]byte
	rand.Read(rb[:])
	k.sock = "kiosk-e2e-" + hex.EncodeToString(rb[:])
}

// configText is the config a technician would write for this kiosk.
func (k *Kiosk) configText(caFile, secretFile string) string {
	o := k.opts
	var b strings.Builder
	fmt.Fprintf(&b, `# kioskd.toml for an end-to-end run: simulated devices, fake MyQ over HTTPS.

[kiosk]
# The name on receipts and in payment descriptions.
id = "e2e-kiosk"
currency = "EUR"
languages = ["en", "cs"]
# Any amount is booked on Enter.
min_topup = 0
max_topup = 50.00
# Short timers where a scenario waits for them.
idle_finish = %q
card_timeout = %q
state_dir = %q
# The scenarios look for whole names ("Hello, Jana Novakova").
greeting = "full"
%s
[myq]
url = %q
client_id = %q
# chmod 600, as check-config insists.
client_secret_file = %q
# The fake signs its certificate with its own CA, like MyQ does.
ca_file = %q
provider = "external"
request_timeout = "5s"
drain_spacing = "1ms"

[card_reader]
port = %q
baud = 9600
format = "rdm6300"
# EM4100 frame -> the 10-digit decimal printed on the card.
transform = "right(8)|hex2dec|lpad(10,0)"
`, o.IdleFinish, o.CardTimeout, k.StateDir, pinLine(k.PINFile), k.MyQ.URL, ClientID, secretFile, caFile, k.Reader.Path())
	if k.Coins != nil {
		fmt.Fprintf(&b, `
[[acceptor]]
name = "coins"
port = %q
protocol = "pulse"
# Silence that ends a coin's pulse train.
pulse_gap = %q
# Few pulses per coin: a loaded machine can stretch a long train.
[acceptor.values]
"1" = 0.50
"2" = 1.00
"3" = 0.20
"4" = 2.00
`, k.Coins.Path(), o.PulseGap)
	}
	if k.CCTalk != nil {
		fmt.Fprintf(&b, `
[[acceptor]]
name = "cctalk-coins"
port = %q
protocol = "cctalk"
address = 2
crc16 = false
poll_interval = "50ms"
[acceptor.values]
"1" = 0.50
"2" = 1.00
"3" = 2.00
`, k.CCTalk.Path())
	}
	if k.Notes != nil {
		fmt.Fprintf(&b, `
[[acceptor]]
name = "notes"
port = %q
protocol = "essp"
# Factory default eSSP key.
encryption = true
[acceptor.values]
"1" = 5.00
"2" = 10.00
"3" = 20.00
`, k.Notes.Path())
	}
	return b.String()
}

func pinLine(path string) string {
	if path == "" {
		return ""
	}
	return fmt.Sprintf("technician_pin_file = %q\n", path)
}

func (k *Kiosk) tmux(args ...string) (string, error) {
	full := append([]string{"-u", "-L", k.sock, "-f", k.tmuxCfg}, args...)
	cmd := exec.Command("tmux", full...)
	env := make([]string, 0, len(os.Environ()))
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "TMUX=") && !strings.HasPrefix(e, "TMUX_PANE=") {
			env = append(env, e)
		}
	}
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("tmux %s: %w: %s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// command is the shell command tmux runs: kioskd on the pane's pty, with
// none of systemd's variables leaking in from the test's environment.
func (k *Kiosk) command() string {
	args := []string{"env", "-u", "STATE_DIRECTORY", "-u", "RUNTIME_DIRECTORY", "-u", "CREDENTIALS_DIRECTORY",
		"-u", "NOTIFY_SOCKET", "-u", "WATCHDOG_USEC", "-u", "WATCHDOG_PID", "TERM=xterm-256color", "LANG=C.UTF-8"}
	if k.opts.NotifySocket != "" {
		args = append(args, "NOTIFY_SOCKET="+k.opts.NotifySocket)
	}
	args = append(args, k.opts.Kioskd, "--config", k.ConfigPath, "--log-level", k.opts.LogLevel)
	if os.Geteuid() == 0 {
		args = append(args, "--allow-root") // CI runs as root; kioskd refuses it otherwise
	}
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = shellQuote(a)
	}
	// The shell waits for kioskd and writes its exit status to a file:
	// tmux loses pane_dead_status when a respawned pane dies at once.
	return strings.Join(q, " ") + "; echo $? > " + shellQuote(k.statusPath())
}

func shellQuote(a string) string { return "'" + strings.ReplaceAll(a, "'", `'\''`) + "'" }

func (k *Kiosk) statusPath() string { return filepath.Join(k.Dir, "exit-status") }

// Start runs kioskd in a fresh 80x24 tmux pane. After a stop or a kill it
// starts it again over the same state directory.
func (k *Kiosk) Start() {
	k.t.Helper()
	if k.started {
		// Respawning the dead pane clears it, so no line of the previous
		// run's screen can satisfy a wait on the new one.
		if k.Alive() {
			k.t.Fatalf("e2e: Start: kioskd is still running")
		}
		os.Remove(k.statusPath())
		// -k: the shell may not have ended yet; kioskd has.
		if _, err := k.tmux("respawn-pane", "-k", "-t", "kiosk", k.command()); err != nil {
			k.t.Fatalf("e2e: restart kioskd: %v", err)
		}
		return
	}
	os.Remove(k.statusPath())
	if _, err := k.tmux("new-session", "-d", "-s", "kiosk", "-x", strconv.Itoa(Cols), "-y", strconv.Itoa(Rows), k.command()); err != nil {
		k.t.Fatalf("e2e: start kioskd: %v", err)
	}
	k.started = true
	if out, err := k.tmux("display-message", "-p", "#{socket_path}"); err == nil {
		k.socketPath = strings.TrimSpace(out)
	}
}

// StartAndWaitIdle starts kioskd and waits for the idle screen.
func (k *Kiosk) StartAndWaitIdle() {
	k.t.Helper()
	k.Start()
	k.WaitScreen("Tap your card")
}

// Close stops kioskd (SIGKILL: it is a test), the terminal, the simulators
// and the fake.
func (k *Kiosk) Close() {
	if k.started {
		if _, done := k.exitStatus(); !done {
			if pid := k.kioskdPID(); pid > 0 {
				syscall.Kill(pid, syscall.SIGKILL)
			}
			// Let the pane's shell write the status before the
			// directory goes, or it re-creates a file in it.
			for i := 0; i < 500; i++ {
				if _, done := k.exitStatus(); done {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
		k.tmux("kill-server")
		if k.socketPath != "" {
			os.Remove(k.socketPath)
		}
		k.started = false
	}
	for _, c := range []interface{ Close() error }{nilIfNil(k.Reader), nilIfNil(k.Coins), nilIfNil(k.CCTalk), nilIfNil(k.Notes), nilIfNil(k.MyQ)} {
		if c != nil {
			c.Close()
		}
	}
	k.Reader, k.Coins, k.CCTalk, k.Notes, k.MyQ = nil, nil, nil, nil, nil
}

func nilIfNil[T any](p *T) interface{ Close() error } {
	if p == nil {
		return nil
	}
	if c, ok := any(p).(interface{ Close() error }); ok {
		return c
	}
	return nil
}

// exitStatus is kioskd's exit status once it ended (-1: killed by a
// signal), from the file the pane's shell writes.
func (k *Kiosk) exitStatus() (int, bool) {
	b, err := os.ReadFile(k.statusPath())
	if err != nil || !bytes.HasSuffix(b, []byte("\n")) {
		return 0, false
	}
	st, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return -1, true
	}
	if st > 128 {
		st = -1
	}
	return st, true
}

// kioskdPID is the pid of kioskd: the child of the pane's shell.
func (k *Kiosk) kioskdPID() int {
	out, err := k.tmux("display-message", "-p", "-t", "kiosk", "#{pane_pid}")
	if err != nil {
		return 0
	}
	sh, _ := strconv.Atoi(strings.TrimSpace(out))
	if sh <= 0 {
		return 0
	}
	for i := 0; i < 100; i++ {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", sh, sh))
		if err != nil {
			return 0
		}
		if f := strings.Fields(string(b)); len(f) > 0 {
			pid, _ := strconv.Atoi(f[0])
			return pid
		}
		if _, done := k.exitStatus(); done {
			return 0
		}
		time.Sleep(10 * time.Millisecond)
	}
	return 0
}

// PID is kioskd's process id.
func (k *Kiosk) PID() int {
	k.t.Helper()
	pid := 0
	if _, done := k.exitStatus(); !done {
		pid = k.kioskdPID()
	}
	if pid <= 0 {
		k.t.Fatalf("e2e: kioskd is not running\n%s\nlog:\n%s", k.Screen(), k.LogTail(30))
	}
	return pid
}

// Alive reports whether kioskd still runs.
func (k *Kiosk) Alive() bool {
	_, done := k.exitStatus()
	return !done
}

// Signal sends sig to kioskd.
func (k *Kiosk) Signal(sig syscall.Signal) {
	k.t.Helper()
	if err := syscall.Kill(k.PID(), sig); err != nil {
		k.t.Fatalf("e2e: kill -%d: %v", sig, err)
	}
}

// WaitExit waits for kioskd to end and returns its exit status (-1: killed
// by a signal) and how long after the call it ended.
func (k *Kiosk) WaitExit(limit time.Duration) (int, time.Duration) {
	k.t.Helper()
	start := time.Now()
	for time.Since(start) < limit {
		if st, done := k.exitStatus(); done {
			return st, time.Since(start)
		}
		time.Sleep(10 * time.Millisecond)
	}
	k.t.Fatalf("e2e: kioskd still runs after %v\n%s", limit, k.Screen())
	return 0, 0
}

// Kill kills kioskd with SIGKILL and waits until it is gone.
func (k *Kiosk) Kill() {
	k.t.Helper()
	k.Signal(syscall.SIGKILL)
	k.WaitExit(ScreenWait)
}

// Screen is the terminal's text now, one line a row (trailing blanks cut).
func (k *Kiosk) Screen() string {
	out, err := k.tmux("capture-pane", "-p", "-t", "kiosk")
	if err != nil {
		return "(no screen: " + err.Error() + ")"
	}
	return out
}

// ScreenJoined is the screen with wrapped lines joined: for text a process
// printed (an error message), not for the full-screen UI.
func (k *Kiosk) ScreenJoined() string {
	out, err := k.tmux("capture-pane", "-p", "-J", "-t", "kiosk")
	if err != nil {
		return "(no screen: " + err.Error() + ")"
	}
	return out
}

// WaitScreenFunc polls the screen until ok holds.
func (k *Kiosk) WaitScreenFunc(what string, ok func(screen string) bool) string {
	k.t.Helper()
	deadline := time.Now().Add(ScreenWait)
	var s string
	for {
		s = k.Screen()
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	k.t.Fatalf("e2e: the screen never showed %s; it shows:\n%s\nkioskd.log tail:\n%s", what, s, k.LogTail(25))
	return s
}

// WaitScreen waits until every text appears on the screen.
func (k *Kiosk) WaitScreen(texts ...string) string {
	k.t.Helper()
	return k.WaitScreenFunc(fmt.Sprintf("%q", texts), func(s string) bool {
		for _, t := range texts {
			if !strings.Contains(s, t) {
				return false
			}
		}
		return true
	})
}

// Money is how the kiosk's English screen writes an amount.
func Money(minor int64) string { return ui.FormatMoney("en", "EUR", minor) }

// WaitTotal waits until the running total, drawn in the big block font,
// reads minor.
func (k *Kiosk) WaitTotal(minor int64) string {
	k.t.Helper()
	return k.WaitScreenFunc("the total "+Money(minor)+" in big digits", func(s string) bool { return HasBig(s, Money(minor)) })
}

// SendKeys types keys on the kiosk's keyboard (tmux key names: Enter,
// Escape, C-c, ...).
func (k *Kiosk) SendKeys(keys ...string) {
	k.t.Helper()
	if _, err := k.tmux(append([]string{"send-keys", "-t", "kiosk"}, keys...)...); err != nil {
		k.t.Fatalf("e2e: %v", err)
	}
}

// RDM6300Hex is the frame payload a reader sends for a decimal card number.
func RDM6300Hex(decimal string) string {
	n, err := strconv.ParseUint(decimal, 10, 32)
	if err != nil {
		panic("e2e: card number " + decimal + " is not a 32-bit decimal")
	}
	return fmt.Sprintf("10%08X", n)
}

// Tap holds the card with the decimal number on the reader.
func (k *Kiosk) Tap(decimal string) {
	k.t.Helper()
	if err := k.Reader.TapCard(RDM6300Hex(decimal)); err != nil {
		k.t.Fatalf("e2e: tap card: %v", err)
	}
}

// PulseCoins maps a coin's value (minor units) to its pulse count.
var PulseCoins = map[int64]int{50: 1, 100: 2, 20: 3, 200: 4}

// Coin inserts a coin of the given value into the pulse acceptor.
func (k *Kiosk) Coin(minor int64) {
	k.t.Helper()
	pulses, ok := PulseCoins[minor]
	if !ok {
		k.t.Fatalf("e2e: no pulse coin of %d", minor)
	}
	if err := k.Coins.InsertCoin(pulses); err != nil {
		k.t.Fatalf("e2e: insert coin: %v", err)
	}
}

// Control is a client of kioskd's control socket.
func (k *Kiosk) Control() *control.Client { return control.Dial(k.StateDir) }

// Flush asks kioskd to flush its queue now, as `kioskctl flush` does.
func (k *Kiosk) Flush() {
	k.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := k.Control().Flush(ctx); err != nil {
		k.t.Fatalf("e2e: flush: %v", err)
	}
}

// WaitBooked waits until MyQ's ledger holds exactly want per user (users
// not named must have nothing) and the ledger passes its exactly-once check.
func (k *Kiosk) WaitBooked(want map[int64]int64) {
	k.t.Helper()
	deadline := time.Now().Add(LedgerWait)
	var got map[int64]api.Money
	for {
		got = k.Fake.Totals()
		if sameTotals(got, want) {
			break
		}
		if time.Now().After(deadline) {
			k.t.Fatalf("e2e: MyQ ledger %v, want %v\nscreen:\n%s\nlog:\n%s", got, want, k.Screen(), k.LogTail(30))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := k.Fake.Check(); err != nil {
		k.t.Fatalf("e2e: MyQ ledger check: %v", err)
	}
}

func sameTotals(got map[int64]api.Money, want map[int64]int64) bool {
	n := 0
	for _, v := range got {
		if v != 0 {
			n++
		}
	}
	nw := 0
	for id, v := range want {
		if v != 0 {
			nw++
		}
		if int64(got[id]) != v {
			return false
		}
	}
	return n == nw
}

// LogPath is kioskd's log file (stderr is the kiosk's terminal).
func (k *Kiosk) LogPath() string { return filepath.Join(k.StateDir, "kioskd.log") }

// Log is the whole kioskd.log.
func (k *Kiosk) Log() string {
	b, _ := os.ReadFile(k.LogPath())
	return string(b)
}

// LogTail is the last n lines of kioskd.log.
func (k *Kiosk) LogTail(n int) string {
	lines := strings.Split(strings.TrimRight(k.Log(), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// JournalPath is the journal file in the state directory.
func (k *Kiosk) JournalPath() string { return filepath.Join(k.StateDir, journal.FileName) }

// JournalRecords reads the journal file as it is on disk now (the daemon may
// be running: only whole lines are read).
func (k *Kiosk) JournalRecords() ([]journal.Record, error) {
	f, err := os.Open(k.JournalPath())
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []journal.Record
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		i := strings.LastIndexByte(line, '\t')
		if i < 0 {
			return out, fmt.Errorf("journal line %d: no checksum", len(out)+1)
		}
		var r journal.Record
		if err := json.Unmarshal([]byte(line[:i]), &r); err != nil {
			return out, fmt.Errorf("journal line %d: %w", len(out)+1, err)
		}
		out = append(out, r)
	}
	return out, sc.Err()
}

// ErrNoBinary is BuildKioskd's error when the go tool is missing.
var ErrNoBinary = errors.New("e2e: no go tool to build kioskd")

// BuildKioskd builds cmd/kioskd into dir (without -race: the daemon is
// driven from outside, and a plain build starts and runs faster).
func BuildKioskd(dir string) (string, error) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
		if _, serr := os.Stat(goTool); serr != nil {
			return "", ErrNoBinary
		}
	}
	bin := filepath.Join(dir, "kioskd")
	cmd := exec.Command(goTool, "build", "-o", bin, "github.com/printroom/voucherkiosk/cmd/kioskd")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("e2e: go build ./cmd/kioskd: %w\n%s", err, out)
	}
	return bin, nil
}

// PollScreen captures the screen back to back (no sleep: one capture takes
// a few ms, which is the resolution) until ok holds, and returns when the
// capture that first showed it ended: an upper bound of when it was drawn.
func (k *Kiosk) PollScreen(limit time.Duration, ok func(screen string) bool) (time.Time, error) {
	deadline := time.Now().Add(limit)
	for {
		s := k.Screen()
		now := time.Now()
		if ok(s) {
			return now, nil
		}
		if now.After(deadline) {
			return now, fmt.Errorf("e2e: screen condition not met within %v; screen:\n%s", limit, s)
		}
	}
}

// Contains is a PollScreen condition: every text is on the screen.
func Contains(texts ...string) func(string) bool {
	return func(s string) bool {
		for _, t := range texts {
			if !strings.Contains(s, t) {
				return false
			}
		}
		return true
	}
}
