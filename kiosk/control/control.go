// Package control owns the daemon's control socket: the small JSON-over-HTTP
// protocol on a unix socket through which kioskctl asks a running kioskd for
// its status, booking queue and cash box, and tells it to flush or cash up.
// See docs/ARCHITECTURE.md for its place among the packages.
//
// The socket is mode 0600 in the runtime or state directory: whoever can
// open it is the technician (root or the kiosk user). The same Status is
// served as JSON by the monitor's /status.
package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/printroom/voucherkiosk/api"
	"github.com/printroom/voucherkiosk/kiosk/journal"
)

// SocketName is the control socket's file name inside its directory.
const SocketName = "kioskd.sock"

// Status is what `kioskctl status` and the monitor's /status show.
type Status struct {
	Version   string            `json:"version"`
	KioskID   string            `json:"kiosk_id"`
	Started   time.Time         `json:"started"`
	Phase     string            `json:"phase"`
	Reason    string            `json:"reason,omitempty"` // out of service reason
	Online    bool              `json:"myq_online"`
	Pending   int               `json:"pending"`
	Oldest    *time.Time        `json:"oldest_pending,omitempty"`
	Attention int               `json:"needs_attention"`
	LastError string            `json:"last_error,omitempty"`
	Unclaimed int64             `json:"unclaimed"` // minor units
	Currency  string            `json:"currency"`
	Devices   map[string]Device `json:"devices"`
	// JournalDamage: journal bytes cut at start and kept in the state
	// directory, not yet acknowledged (`kioskctl journal ack-damage`).
	JournalDamage []journal.Damage `json:"journal_damage,omitempty"`
	Cashbox       []CashboxFill    `json:"cashbox,omitempty"`
}

// CashboxFill is one acceptor's cash box: pieces since the last cash-up
// against its configured capacity (0: none configured).
type CashboxFill struct {
	Acceptor string `json:"acceptor"`
	Pieces   int    `json:"pieces"`
	Capacity int    `json:"capacity,omitempty"`
	// Percent is Pieces over Capacity in whole percent, rounded down.
	Percent int `json:"percent,omitempty"`
	// NearFull: at or over the near-full threshold, so the acceptor
	// refuses cash where it can.
	NearFull bool `json:"near_full,omitempty"`
}

// Device is one device's last reported status.
type Device struct {
	Status string    `json:"status"`
	Detail string    `json:"detail,omitempty"`
	Since  time.Time `json:"since"`
}

// QueueItem is one finished session not yet committed in MyQ.
type QueueItem struct {
	SessionID string    `json:"session_id"`
	Reference string    `json:"reference"`
	Amount    int64     `json:"amount"`
	UserID    int64     `json:"user_id,omitempty"`
	Card      string    `json:"card,omitempty"` // masked
	Finished  time.Time `json:"finished"`
	PaymentID string    `json:"payment_id,omitempty"`
	Attention string    `json:"attention,omitempty"`
}

// Cash is the cash box since the last cash-up.
type Cash struct {
	Currency string             `json:"currency"`
	Since    time.Time          `json:"since,omitempty"`
	Totals   journal.CashTotals `json:"totals"`
	// Fill is each acceptor's cash-box fill level (cashbox_capacity).
	Fill []CashboxFill `json:"fill,omitempty"`
	// Vouchers redeemed since the cash-up: not in the box, on their own line.
	Vouchers *journal.VoucherTotals `json:"vouchers,omitempty"`
	// JournalDamage: as in Status; the cash-up must know the journal lost
	// bytes (kept in the named files) since they may have held money.
	JournalDamage []journal.Damage `json:"journal_damage,omitempty"`
}

// Balanced reports whether the cash-box equation holds: the money accepted
// equals committed + pending + needs attention + in an open session +
// unclaimed. (Unrecognised cash is counted in events: its amount is not
// known, so it stands beside the equation.)
func (c Cash) Balanced() bool {
	t := c.Totals
	return t.Accepted == t.Committed+t.Pending+t.Attention+t.InSession+t.Unclaimed
}

// Equation renders the cash-box equation in currency amounts, for
// `kioskctl cashbox` and the cash-up:
//
//	cash box 12.50 EUR = committed 10.00 + pending 1.00 + needs attention 0.50 + in session 0.00 + unclaimed 1.00 EUR (holds); unrecognised: 2 events
func (c Cash) Equation() string {
	t := c.Totals
	m := func(v int64) string { return api.Money(v).String() }
	verdict := "holds"
	if !c.Balanced() {
		verdict = fmt.Sprintf("DOES NOT HOLD: %s %s unaccounted for", m(t.Accepted-t.Committed-t.Pending-t.Attention-t.InSession-t.Unclaimed), c.Currency)
	}
	s := fmt.Sprintf("cash box %s %s = committed %s + pending %s + needs attention %s + in session %s + unclaimed %s %s (%s); unrecognised: %d event(s), amount unknown",
		m(t.Accepted), c.Currency, m(t.Committed), m(t.Pending), m(t.Attention), m(t.InSession), m(t.Unclaimed), c.Currency, verdict, t.Unrecognised)
	if len(c.JournalDamage) > 0 {
		s += fmt.Sprintf("\nALERT: the journal lost %d record line(s) at start (kept in %s): money may be missing from these totals; `kioskctl journal ack-damage` once checked", len(c.JournalDamage), damageNames(c.JournalDamage))
	}
	return s
}

func damageNames(ds []journal.Damage) string {
	var b strings.Builder
	for i, d := range ds {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(d.Name)
	}
	return b.String()
}

// Backend is what the daemon answers with. Calls may block briefly (they go
// through the engine's loop or the journal); the server bounds each with the
// request's deadline.
type Backend interface {
	Status(ctx context.Context) (Status, error)
	Queue(ctx context.Context) ([]QueueItem, error)
	Flush(ctx context.Context) error
	Cash(ctx context.Context) (Cash, error)
	Cashup(ctx context.Context, by string) (Cash, error)
	// AckJournalDamage acknowledges the journal damage alert (the files
	// are kept, renamed); it returns how many were acknowledged.
	AckJournalDamage(ctx context.Context) (int, error)
}

// Handler serves the protocol for b. It is mounted on the control socket and,
// for GET /status only, on the monitor.
func Handler(b Backend) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		answer(w, r, func(ctx context.Context) (any, error) { return b.Status(ctx) })
	})
	mux.HandleFunc("GET /queue", func(w http.ResponseWriter, r *http.Request) {
		answer(w, r, func(ctx context.Context) (any, error) { return b.Queue(ctx) })
	})
	mux.HandleFunc("POST /flush", func(w http.ResponseWriter, r *http.Request) {
		answer(w, r, func(ctx context.Context) (any, error) { return map[string]bool{"ok": true}, b.Flush(ctx) })
	})
	mux.HandleFunc("GET /cashbox", func(w http.ResponseWriter, r *http.Request) {
		answer(w, r, func(ctx context.Context) (any, error) { return b.Cash(ctx) })
	})
	mux.HandleFunc("POST /journal/ack-damage", func(w http.ResponseWriter, r *http.Request) {
		answer(w, r, func(ctx context.Context) (any, error) {
			n, err := b.AckJournalDamage(ctx)
			return map[string]int{"acknowledged": n}, err
		})
	})
	mux.HandleFunc("POST /cashup", func(w http.ResponseWriter, r *http.Request) {
		by := r.URL.Query().Get("by")
		if err := CheckCashupBy(by); err != nil {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(errorBody{Error: err.Error()})
			return
		}
		answer(w, r, func(ctx context.Context) (any, error) { return b.Cashup(ctx, by) })
	})
	return mux
}

type errorBody struct {
	Error string `json:"error"`
}

func answer(w http.ResponseWriter, r *http.Request, f func(context.Context) (any, error)) {
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	v, err := f(ctx)
	w.Header().Set("Content-Type", "application/json")
	if err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		json.NewEncoder(w).Encode(errorBody{Error: err.Error()})
		return
	}
	json.NewEncoder(w).Encode(v)
}

// MaxCashupBy is the longest name a cash-up may carry, in characters.
const MaxCashupBy = 64

// CheckCashupBy refuses a cash-up name the journal should not keep: empty,
// longer than MaxCashupBy characters, or holding anything unprintable
// (escape codes would replay on the technician's terminal from every
// `kioskctl journal` listing).
func CheckCashupBy(by string) error {
	if strings.TrimSpace(by) == "" {
		return errors.New("cash-up: --by needs the name of who emptied the box")
	}
	if !utf8.ValidString(by) {
		return errors.New("cash-up: --by is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(by); n > MaxCashupBy {
		return fmt.Errorf("cash-up: --by is %d characters; at most %d", n, MaxCashupBy)
	}
	for i, r := range by {
		if !unicode.IsPrint(r) {
			return fmt.Errorf("cash-up: --by holds the unprintable character %U at byte %d; letters, digits, spaces and punctuation only", r, i)
		}
	}
	return nil
}

// timeouts bound every connection, so a client that connects and stalls
// (or never reads its answer) cannot hold a descriptor and a goroutine of the
// daemon that takes the money. write covers answer's 10 s deadline.
type timeouts struct {
	header, read, write, idle time.Duration
}

var defaultTimeouts = timeouts{header: 5 * time.Second, read: 5 * time.Second, write: 15 * time.Second, idle: 30 * time.Second}

// Server is the control socket.
type Server struct {
	path string
	srv  *http.Server
	ln   net.Listener
}

// Listen creates the socket in dir (mode 0600, replacing a stale socket left
// by a crash) and serves b on it until Close.
func Listen(dir string, b Backend, log *slog.Logger) (*Server, error) {
	return listen(dir, b, log, defaultTimeouts)
}

func listen(dir string, b Backend, log *slog.Logger, to timeouts) (*Server, error) {
	path := filepath.Join(dir, SocketName)
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("control: %s exists and is not a socket", path)
		}
		// A socket file survives a crash; a live daemon would hold it, but
		// only one kioskd runs per state directory (systemd), so it is stale.
		os.Remove(path)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("control: listen %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("control: chmod %s: %w", path, err)
	}
	s := &Server{path: path, ln: ln, srv: &http.Server{
		Handler:           Handler(b),
		ReadHeaderTimeout: to.header,
		ReadTimeout:       to.read,
		WriteTimeout:      to.write,
		IdleTimeout:       to.idle,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}}
	go s.srv.Serve(ln)
	return s, nil
}

// Path is the socket's path.
func (s *Server) Path() string { return s.path }

// Close stops serving and removes the socket.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	os.Remove(s.path)
	return err
}

// ErrNotRunning means no daemon answers on the socket.
var ErrNotRunning = errors.New("kioskd is not running (no control socket)")

// Client talks to a daemon's control socket.
type Client struct {
	path string
	hc   *http.Client
}

// Dial returns a client for the socket in dir. It does not connect yet.
func Dial(dir string) *Client {
	path := filepath.Join(dir, SocketName)
	return &Client{path: path, hc: &http.Client{
		Timeout: 15 * time.Second,
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		}},
	}}
}

func (c *Client) do(ctx context.Context, method, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, "http://kioskd"+path, nil)
	if err != nil {
		return err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || isRefused(err) {
			return fmt.Errorf("%w: %s", ErrNotRunning, c.path)
		}
		return fmt.Errorf("control: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return fmt.Errorf("control: %s %s: read: %w", method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		var eb errorBody
		if json.Unmarshal(body, &eb) == nil && eb.Error != "" {
			return fmt.Errorf("kioskd: %s", eb.Error)
		}
		return fmt.Errorf("control: %s %s: %s", method, path, resp.Status)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("control: %s %s: decode: %w", method, path, err)
	}
	return nil
}

func isRefused(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) {
		var se *os.SyscallError
		if errors.As(op.Err, &se) {
			return se.Syscall == "connect"
		}
	}
	return false
}

func (c *Client) Status(ctx context.Context) (Status, error) {
	var s Status
	return s, c.do(ctx, http.MethodGet, "/status", &s)
}

func (c *Client) Queue(ctx context.Context) ([]QueueItem, error) {
	var q []QueueItem
	return q, c.do(ctx, http.MethodGet, "/queue", &q)
}

func (c *Client) Flush(ctx context.Context) error {
	var ok map[string]bool
	return c.do(ctx, http.MethodPost, "/flush", &ok)
}

func (c *Client) Cash(ctx context.Context) (Cash, error) {
	var cash Cash
	return cash, c.do(ctx, http.MethodGet, "/cashbox", &cash)
}

// AckJournalDamage acknowledges the journal damage alert.
func (c *Client) AckJournalDamage(ctx context.Context) (int, error) {
	var out struct {
		N int `json:"acknowledged"`
	}
	err := c.do(ctx, http.MethodPost, "/journal/ack-damage", &out)
	return out.N, err
}

func (c *Client) Cashup(ctx context.Context, by string) (Cash, error) {
	var cash Cash
	if err := CheckCashupBy(by); err != nil {
		return cash, err
	}
	return cash, c.do(ctx, http.MethodPost, "/cashup?by="+urlQueryEscape(by), &cash)
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }
