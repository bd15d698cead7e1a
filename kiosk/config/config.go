// Package config owns the kiosk's TOML configuration: reading it strictly
// (an unknown key is an error naming the key and its line), validating every
// value with a message a technician can act on, applying defaults, finding
// the secrets (a file or a systemd credential), and checking the machine
// around it (ports, files, state directory) for `check-config`.
// See docs/ARCHITECTURE.md for its place among the packages.
//
// Amounts are exact int64 minor units; no float ever carries money.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// DefaultPath is where the Debian package installs the config.
const DefaultPath = "/etc/kioskd/kioskd.toml"

// DefaultStateDir is used when neither $STATE_DIRECTORY nor state_dir say.
const DefaultStateDir = "/var/lib/kioskd"

// CardReaderName is the device name of the card reader in events and status.
const CardReaderName = "card"

// Config is a validated kiosk configuration.
type Config struct {
	// File is the path the config was read from (or the name given to Parse).
	File       string
	Kiosk      Kiosk
	MyQ        MyQ
	CardReader CardReader
	Acceptors  []Acceptor
	Monitor    Monitor

	Voucher       Voucher
	VoucherReader VoucherReader

	lines *lineIndex // where each key is, for problems found after Parse
}

// Kiosk is the [kiosk] table.
type Kiosk struct {
	ID        string // safe for references: [A-Za-z0-9._-], at most 32
	Currency  string // ISO 4217 code, "EUR"
	Languages []string
	MinTopup  int64 // minor units; 0 means any amount may be booked
	MaxTopup  int64 // minor units
	// IdleFinish books the session this long after the last credit.
	IdleFinish time.Duration
	// CardTimeout closes a session without money after this long.
	CardTimeout time.Duration
	// ClaimWindow: cash inserted while idle may be claimed by the first
	// card tapped within this long of its insertion; later it is reported
	// for the cash-up and given to no card. Default 60 s, 10 s..10 min.
	ClaimWindow time.Duration
	// CardCacheTTL: how long a cached card -> user answer is trusted when
	// MyQ is unreachable. Default 30 days (720h), 1 h..365 days.
	CardCacheTTL time.Duration
	StateDir     string
	// ReceiptKeyFile holds the HMAC key for receipt codes; the daemon
	// generates it when missing. Default: receipt.key in StateDir (the only
	// place the service may write).
	ReceiptKeyFile string
	// TechnicianPINFile holds the hash of the technician menu's PIN. Empty:
	// the technician menu stays locked. Load resolves it to the systemd
	// credential of the same base name when there is one.
	TechnicianPINFile string
	// ReceiptHold is how long the receipt (and "not registered") screen
	// stays before the next student; Enter ends it sooner.
	ReceiptHold time.Duration
	// HighContrast draws the student's screens in bold light on black with
	// solid warning bars.
	HighContrast bool
	// Greeting is how much of the student's name the screen shows:
	// GreetingFull, GreetingFirst (default) or GreetingInitials.
	Greeting string
	// ShowBalance shows the MyQ balance on screen (default true).
	ShowBalance bool
}

// MyQ is the [myq] table.
type MyQ struct {
	URL              string // https, or http for loopback hosts only; no trailing slash
	ClientID         string
	ClientSecretFile string
	// ClientSecret is filled by Load (or LoadSecrets), never by Parse.
	ClientSecret   Secret
	CAFile         string // empty: system roots
	Provider       string // recharge provider reference, "external"
	RequestTimeout time.Duration
	// DrainSpacing paces queued top-ups after an outage: at most one
	// starts per spacing, on slots phased by the kiosk id, so a fleet that
	// comes back together does not knock MyQ over again. About
	// 2 x kiosks / MyQ's requests per second (500 kiosks at 50/s: 23s).
	DrainSpacing time.Duration
}

// Secret is a string that never prints itself, so a secret cannot reach a
// log by accident.
type Secret string

func (Secret) String() string   { return "[redacted]" }
func (Secret) GoString() string { return "[redacted]" }

// Reveal returns the secret for the one place that sends it.
func (s Secret) Reveal() string { return string(s) }

// Card reader framings.
const (
	FormatRDM6300 = "rdm6300"
	FormatLine    = "line"
)

// CardReader is the [card_reader] table.
type CardReader struct {
	Port      string
	Baud      int
	Format    string // FormatRDM6300 or FormatLine
	Transform string // "right(8)|hex2dec|lpad(10,0)"; empty: unchanged
	// Pattern (line readers only) is a regular expression with one group:
	// the card number is that group of the line. Empty: the whole line.
	Pattern string
}

// Protocol is an acceptor's wire protocol.
type Protocol string

const (
	ProtocolPulse  Protocol = "pulse"
	ProtocolCCTalk Protocol = "cctalk"
	ProtocolESSP   Protocol = "essp"
)

func (p Protocol) String() string { return string(p) }

// Acceptor is one [[acceptor]] block.
type Acceptor struct {
	Name     string
	Port     string
	Protocol Protocol
	Baud     int // default 9600 for every protocol
	// Values maps the values key as written ("5": pulse count, ccTalk coin
	// position or SSP channel) to its amount in minor units.
	Values map[string]int64

	PulseGap time.Duration // pulse: silence that ends a coin
	// Encoding (pulse) is how the bridge reports a coin: "pulse" (a byte
	// per pulse), "count_byte" (a byte holding the count) or "count_line"
	// (an ASCII line holding the count). Default "pulse".
	Encoding string

	Address      int           // cctalk: device address, default 2
	CRC16        bool          // cctalk: CRC16 checksums instead of simple
	PollInterval time.Duration // cctalk: default 200ms

	Encryption bool   // essp: negotiate eSSP encryption
	KeyFile    string // essp: file holding the fixed key (16 hex digits)
	// FixedKey is the eSSP fixed key as 16 hex digits: from fixed_key, or
	// read from key_file by Load. Empty with Encryption: the factory default.
	FixedKey Secret

	// CashboxCapacity is how many pieces the acceptor's cash box holds; 0:
	// not configured, no fill level.
	CashboxCapacity int
	// CashboxNearFull is the fill, in percent of CashboxCapacity, at which
	// an acceptor that can refuse money stops taking it (default 95).
	CashboxNearFull int
}

// DefaultCashboxNearFull is cashbox_near_full when the config leaves it out.
const DefaultCashboxNearFull = 95

// Monitor is the [monitor] table.
type Monitor struct {
	Listen string // host:port for /metrics and /status; empty: off
	// AllowRemote lets Listen be a non-loopback address.
	AllowRemote bool
}

// Bounds that keep a typo from becoming a kiosk that books after a day or
// floods MyQ.
var (
	idleFinishRange     = [2]time.Duration{3 * time.Second, 10 * time.Minute}
	cardTimeoutRange    = [2]time.Duration{5 * time.Second, 30 * time.Minute}
	receiptHoldRange    = [2]time.Duration{5 * time.Second, 5 * time.Minute}
	claimWindowRange    = [2]time.Duration{10 * time.Second, 10 * time.Minute}
	cardCacheTTLRange   = [2]time.Duration{time.Hour, 365 * 24 * time.Hour}
	requestTimeoutRange = [2]time.Duration{time.Second, 5 * time.Minute}
	drainSpacingRange   = [2]time.Duration{time.Millisecond, 5 * time.Minute}
	pulseGapRange       = [2]time.Duration{20 * time.Millisecond, 2 * time.Second}
	pollIntervalRange   = [2]time.Duration{20 * time.Millisecond, 5 * time.Second}
)

var (
	kioskIDRe  = regexp.MustCompile(`^[A-Za-z0-9._-]{1,32}$`)
	currencyRe = regexp.MustCompile(`^[A-Z]{3}$`)
	nameRe     = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)
	providerRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	hexKeyRe   = regexp.MustCompile(`^[0-9A-Fa-f]{16}$`)
)

var knownLanguages = []string{"en", "cs", "de"}

var standardBauds = []int{1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200}

// The raw shapes: every value is `any` so a wrong type is one Problem among
// many instead of a decode error that hides the rest.
type rawConfig struct {
	Kiosk      map[string]any `toml:"kiosk"`
	MyQ        map[string]any `toml:"myq"`
	CardReader map[string]any `toml:"card_reader"`
	Acceptor   []rawAcceptor  `toml:"acceptor"`
	Monitor    map[string]any `toml:"monitor"`

	Voucher       map[string]any `toml:"voucher"`
	VoucherReader map[string]any `toml:"voucher_reader"`
}

type rawAcceptor map[string]any

// The keys each table knows: anything else is a Problem.
var (
	kioskKeys      = []string{"id", "currency", "languages", "min_topup", "max_topup", "idle_finish", "card_timeout", "state_dir", "receipt_key_file", "technician_pin_file", "receipt_hold", "high_contrast", "greeting", "show_balance", "claim_window", "card_cache_ttl"}
	myqKeys        = []string{"url", "client_id", "client_secret_file", "ca_file", "provider", "request_timeout", "drain_spacing"}
	cardReaderKeys = []string{"port", "baud", "format", "transform", "pattern"}
	acceptorKeys   = []string{"name", "port", "protocol", "baud", "values", "pulse_gap", "encoding", "address", "crc16", "poll_interval", "encryption", "key_file", "fixed_key", "cashbox_capacity", "cashbox_near_full"}
	monitorKeys    = []string{"listen", "allow_remote"}
)

// Parse reads and validates a config from memory. name is the file name
// used in problems. It touches no files and no environment: Load does that.
// On any problem it returns nil and Problems listing all of them.
func Parse(data []byte, name string) (*Config, error) {
	c, ps := parse(data, name)
	if len(ps) > 0 {
		return nil, ps
	}
	return c, nil
}

// parser collects problems while converting the raw values.
type parser struct {
	file  string
	lines *lineIndex
	ps    Problems
}

func (p *parser) add(key, format string, args ...any) {
	p.ps = append(p.ps, Problem{File: p.file, Line: p.lines.line(key), Key: key, Msg: fmt.Sprintf(format, args...)})
}

// parse returns the config as far as it could be read (bad values left at
// their defaults) and every problem, so Check can go on checking files even
// when a value is wrong. It returns a nil config only when the TOML itself
// does not parse.
func parse(data []byte, name string) (*Config, Problems) {
	p := &parser{file: name, lines: scanKeyLines(data)}
	var raw rawConfig
	md, err := toml.Decode(string(data), &raw)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, Problems{{File: name, Line: pe.Position.Line, Msg: "not valid TOML: " + pe.Message}}
		}
		return nil, Problems{{File: name, Msg: "not valid TOML: " + err.Error()}}
	}
	p.unknownKeys(md)

	c := &Config{File: name, lines: p.lines}
	p.kiosk(raw.Kiosk, &c.Kiosk)
	p.myq(raw.MyQ, &c.MyQ)
	p.cardReader(raw.CardReader, &c.CardReader)
	p.acceptors(raw.Acceptor, c)
	p.monitor(raw.Monitor, &c.Monitor)
	p.voucher(raw.Voucher, &c.Voucher)
	p.voucherReader(raw.VoucherReader, &c.VoucherReader)
	return c, p.ps
}

// nameAcceptors gives every problem inside an [[acceptor]] that acceptor's
// name, when it has a good one: "coins" says more than "#2". A problem with
// the name itself keeps the number.
func nameAcceptors(ps Problems, as []Acceptor) {
	for i := range ps {
		n := acceptorIndex(ps[i].Key)
		if n < 1 || n > len(as) || strings.HasSuffix(ps[i].Key, ".name") {
			continue
		}
		ps[i].Name = as[n-1].Name
	}
}

// unknownKeys reports every key the kiosk does not know, with its line.
// The tables decode into maps of `any` (so a wrong type is one problem, not
// a decode error hiding the rest), which makes MetaData.Undecoded blind to
// unknown keys inside them and confused by [acceptor.values]: the check
// runs over MetaData.Keys against the known lists instead.
func (p *parser) unknownKeys(md toml.MetaData) {
	known := map[string][]string{
		"kiosk": kioskKeys, "myq": myqKeys, "card_reader": cardReaderKeys,
		"acceptor": acceptorKeys, "monitor": monitorKeys,
		"voucher": voucherKeys, "voucher_reader": voucherReaderKeys,
	}
	seen := map[string]int{}
	for _, k := range md.Keys() {
		plain := k.String()
		n := seen[plain]
		seen[plain]++
		kl, ok := p.lines.nth(plain, n)
		indexed := plain
		if ok {
			indexed = kl.indexed
		}
		var msg string
		switch len(k) {
		case 1:
			if _, ok := known[k[0]]; !ok {
				msg = fmt.Sprintf("unknown table or key %q; the config has [kiosk], [myq], [card_reader], [[acceptor]] and [monitor]", k[0])
			}
		case 2:
			list, ok := known[k[0]]
			if ok && !slices.Contains(list, k[1]) {
				msg = fmt.Sprintf("unknown key %q in %s; known keys: %s", k[1], tableName(k[0]), strings.Join(list, ", "))
			}
		}
		if msg != "" {
			line := 0
			if ok {
				line = kl.line
			}
			p.ps = append(p.ps, Problem{File: p.file, Line: line, Key: indexed, Msg: msg})
		}
	}
}

func tableName(t string) string {
	if t == "acceptor" {
		return "[[acceptor]]"
	}
	return "[" + t + "]"
}

// Typed getters: each reports a wrong type with an example of right.

func (p *parser) str(m map[string]any, table, key, example string, required bool) (string, bool) {
	v, ok := m[key]
	if !ok {
		// A missing table is reported once, not once per key.
		if required && m != nil {
			p.add(table+"."+key, "is missing; write e.g. %s = %s", key, example)
		}
		return "", false
	}
	s, ok := v.(string)
	if !ok {
		p.add(table+"."+key, "%s is not text; write e.g. %s = %s", describe(v), key, example)
		return "", false
	}
	return s, true
}

func (p *parser) integer(m map[string]any, table, key, example string) (int64, bool) {
	v, ok := m[key]
	if !ok {
		return 0, false
	}
	n, ok := v.(int64)
	if !ok {
		p.add(table+"."+key, "%s is not a whole number; write e.g. %s = %s", describe(v), key, example)
		return 0, false
	}
	return n, true
}

func (p *parser) boolean(m map[string]any, table, key string) (bool, bool) {
	v, ok := m[key]
	if !ok {
		return false, false
	}
	b, ok := v.(bool)
	if !ok {
		p.add(table+"."+key, "%s is not true or false; write e.g. %s = true", describe(v), key)
		return false, false
	}
	return b, true
}

func (p *parser) duration(m map[string]any, table, key, example string, r [2]time.Duration, def time.Duration) time.Duration {
	v, ok := m[key]
	if !ok {
		return def
	}
	d, err := parseDuration(v, r[0], r[1])
	if err != nil {
		p.add(table+"."+key, "%v; write e.g. %s = %s", err, key, example)
		return def
	}
	return d
}

func (p *parser) amount(m map[string]any, table, key, example string) (int64, bool) {
	v, ok := m[key]
	if !ok {
		return 0, false
	}
	n, err := ParseAmount(v)
	if err != nil {
		p.add(table+"."+key, "%v; write e.g. %s = %s", err, key, example)
		return 0, false
	}
	return n, true
}

func (p *parser) path(m map[string]any, table, key, example string, required bool) string {
	s, ok := p.str(m, table, key, example, required)
	if !ok {
		return ""
	}
	if strings.TrimSpace(s) == "" || strings.ContainsRune(s, 0) {
		if required {
			p.add(table+"."+key, "is empty; write e.g. %s = %s", key, example)
		}
		return ""
	}
	return s
}

func (p *parser) kiosk(m map[string]any, k *Kiosk) {
	const t = "kiosk"
	if m == nil {
		p.ps = append(p.ps, Problem{File: p.file, Key: t, Msg: "the [kiosk] table is missing; it needs at least id, currency and max_topup"})
	}
	if id, ok := p.str(m, t, "id", `"library-ground-floor"`, true); ok {
		if !kioskIDRe.MatchString(id) {
			p.add(t+".id", "%q must be 1 to 32 letters, digits, dots, dashes or underscores (it goes into payment references); write e.g. id = \"library-ground-floor\"", id)
		} else {
			k.ID = id
		}
	}
	if cur, ok := p.str(m, t, "currency", `"EUR"`, true); ok {
		if !currencyRe.MatchString(cur) {
			p.add(t+".currency", "%q is not an ISO 4217 currency code (three capital letters); write e.g. currency = \"EUR\"", cur)
		} else {
			k.Currency = cur
		}
	}
	k.Languages = []string{"en"}
	if v, ok := m["languages"]; ok {
		list, isList := v.([]any)
		if !isList || len(list) == 0 {
			p.add(t+".languages", "%s is not a list of languages; write e.g. languages = [\"en\", \"cs\", \"de\"]", describe(v))
		} else {
			var langs []string
			bad := false
			for _, l := range list {
				s, isStr := l.(string)
				switch {
				case !isStr || !slices.Contains(knownLanguages, s):
					p.add(t+".languages", "%s is not a language the kiosk speaks (en, cs, de); write e.g. languages = [\"en\", \"cs\", \"de\"]", describe(l))
					bad = true
				case slices.Contains(langs, s):
					p.add(t+".languages", "%q is listed twice", s)
					bad = true
				default:
					langs = append(langs, s)
				}
			}
			if !bad {
				k.Languages = langs
			}
		}
	}
	minOK, maxOK := false, false
	if n, ok := p.amount(m, t, "min_topup", "0.50"); ok {
		k.MinTopup, minOK = n, true
	}
	if n, ok := p.amount(m, t, "max_topup", "50.00"); ok {
		if n == 0 {
			p.add(t+".max_topup", "must be more than zero; write e.g. max_topup = 50.00")
		} else {
			k.MaxTopup, maxOK = n, true
		}
	} else if _, present := m["max_topup"]; !present && m != nil {
		p.add(t+".max_topup", "is missing; write e.g. max_topup = 50.00")
	}
	if minOK && maxOK && k.MinTopup > k.MaxTopup {
		p.add(t+".min_topup", "%s is more than max_topup %s; min_topup must be at most max_topup", FormatAmount(k.MinTopup), FormatAmount(k.MaxTopup))
	}
	k.IdleFinish = p.duration(m, t, "idle_finish", `"20s"`, idleFinishRange, 20*time.Second)
	k.CardTimeout = p.duration(m, t, "card_timeout", `"30s"`, cardTimeoutRange, 30*time.Second)
	k.ReceiptHold = p.duration(m, t, "receipt_hold", `"30s"`, receiptHoldRange, 30*time.Second)
	k.HighContrast, _ = p.boolean(m, t, "high_contrast")
	k.ClaimWindow = p.duration(m, t, "claim_window", `"60s"`, claimWindowRange, 60*time.Second)
	k.CardCacheTTL = p.duration(m, t, "card_cache_ttl", `"720h"`, cardCacheTTLRange, 30*24*time.Hour)
	k.StateDir = p.path(m, t, "state_dir", `"/var/lib/kioskd"`, false)
	if k.StateDir != "" && !filepath.IsAbs(k.StateDir) {
		p.add(t+".state_dir", "%q must be an absolute path; write e.g. state_dir = \"/var/lib/kioskd\"", k.StateDir)
		k.StateDir = ""
	}
	k.ReceiptKeyFile = p.path(m, t, "receipt_key_file", `"/var/lib/kioskd/receipt.key"`, false)
	k.TechnicianPINFile = p.path(m, t, "technician_pin_file", `"/etc/kioskd/technician-pin"`, false)
	p.kioskPrivacy(m, k)
}

func (p *parser) myq(m map[string]any, q *MyQ) {
	const t = "myq"
	if m == nil {
		p.ps = append(p.ps, Problem{File: p.file, Key: t, Msg: "the [myq] table is missing; it needs url, client_id and client_secret_file"})
	}
	if s, ok := p.str(m, t, "url", `"https://myq.example.edu:8090"`, true); ok {
		if u, msg := checkURL(s); msg != "" {
			p.add(t+".url", "%q %s; write e.g. url = \"https://myq.example.edu:8090\"", s, msg)
		} else {
			q.URL = u
		}
	}
	if s, ok := p.str(m, t, "client_id", `"kiosk-library"`, true); ok {
		if s == "" || strings.ContainsAny(s, " \t\r\n") || len(s) > 200 {
			p.add(t+".client_id", "%q must be the REST API application's client id, without spaces; write e.g. client_id = \"kiosk-library\"", s)
		} else {
			q.ClientID = s
		}
	}
	q.ClientSecretFile = p.path(m, t, "client_secret_file", `"/etc/kioskd/myq-client-secret"`, true)
	q.CAFile = p.path(m, t, "ca_file", `"/etc/kioskd/myq-ca.pem"`, false)
	q.Provider = "external"
	if s, ok := p.str(m, t, "provider", `"external"`, false); ok {
		if !providerRe.MatchString(s) {
			p.add(t+".provider", "%q is not a recharge provider reference; write e.g. provider = \"external\"", s)
		} else {
			q.Provider = s
		}
	}
	q.RequestTimeout = p.duration(m, t, "request_timeout", `"10s"`, requestTimeoutRange, 10*time.Second)
	q.DrainSpacing = p.duration(m, t, "drain_spacing", `"23s"`, drainSpacingRange, 23*time.Second)
}

// checkURL returns the base URL without a trailing slash, or what is wrong.
func checkURL(s string) (string, string) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return "", "is not a URL"
	}
	if u.User != nil {
		return "", "must not carry a user name or password (the secret goes in client_secret_file)"
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", "must not have a query or fragment"
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "", "has a port outside 1..65535"
		}
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return "", "uses plain http to a host that is not this machine; MyQ must be reached over https (http is allowed for 127.0.0.1, ::1 and localhost only)"
		}
	default:
		return "", "must start with https://"
	}
	return strings.TrimRight(u.String(), "/"), ""
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (p *parser) baud(m map[string]any, table string) int {
	n, ok := p.integer(m, table, "baud", "9600")
	if !ok {
		return 9600
	}
	if !slices.Contains(standardBauds, int(n)) {
		p.add(table+".baud", "%d is not a standard baud rate (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200); write e.g. baud = 9600", n)
		return 9600
	}
	return int(n)
}

func (p *parser) port(m map[string]any, table string) string {
	s := p.path(m, table, "port", `"/dev/serial/by-id/usb-FTDI_FT232R_USB_UART_A10K1234-if00-port0"`, true)
	if s != "" && !strings.HasPrefix(s, "/") {
		p.add(table+".port", "%q must be an absolute device path; write e.g. port = \"/dev/ttyUSB0\" (kioskctl ports lists them)", s)
		return ""
	}
	return s
}

func (p *parser) cardReader(m map[string]any, r *CardReader) {
	const t = "card_reader"
	if m == nil {
		p.ps = append(p.ps, Problem{File: p.file, Key: t, Msg: "the [card_reader] table is missing; it needs port and format"})
		return
	}
	r.Port = p.port(m, t)
	r.Baud = p.baud(m, t)
	if s, ok := p.str(m, t, "format", `"rdm6300"`, true); ok {
		if s != FormatRDM6300 && s != FormatLine {
			p.add(t+".format", "%q is not a reader format; write format = \"rdm6300\" (125 kHz RDM6300 module) or format = \"line\" (reader that types one line per card)", s)
		} else {
			r.Format = s
		}
	}
	if s, ok := p.str(m, t, "transform", `"right(8)|hex2dec|lpad(10,0)"`, false); ok {
		if err := validateTransform(s); err != nil {
			p.add(t+".transform", "%v; write e.g. transform = \"right(8)|hex2dec|lpad(10,0)\"", err)
		} else {
			r.Transform = s
		}
	}
	if s, ok := p.str(m, t, "pattern", `"^ID:([0-9A-F]+)$"`, false); ok {
		switch {
		case r.Format == FormatRDM6300:
			p.add(t+".pattern", "applies only to format = \"line\"; remove it")
		default:
			if re, err := regexp.Compile(s); err != nil {
				p.add(t+".pattern", "%q is not a regular expression (%v); write e.g. pattern = \"^ID:([0-9A-F]+)$\"", s, err)
			} else if re.NumSubexp() != 1 {
				p.add(t+".pattern", "%q has %d groups; it needs exactly one, around the card number: e.g. pattern = \"^ID:([0-9A-F]+)$\"", s, re.NumSubexp())
			} else {
				r.Pattern = s
			}
		}
	}
}

// valueKeyRange is the values keys each protocol understands.
func valueKeyRange(pr Protocol) (lo, hi int, what string) {
	switch pr {
	case ProtocolPulse:
		return 1, 100, "a pulse count"
	case ProtocolCCTalk:
		return 1, 16, "a ccTalk coin position"
	case ProtocolESSP:
		return 1, 24, "an SSP channel"
	}
	return 1, 255, "a positive whole number"
}

func (p *parser) acceptors(list []rawAcceptor, c *Config) {
	if len(list) == 0 {
		p.ps = append(p.ps, Problem{File: p.file, Key: "acceptor", Msg: "no [[acceptor]] is configured; the kiosk needs at least one coin or note acceptor"})
		return
	}
	names := map[string]string{CardReaderName: "card_reader"}
	ports := map[string]string{}
	if c.CardReader.Port != "" {
		ports[c.CardReader.Port] = "[card_reader]"
	}
	for i, m := range list {
		t := fmt.Sprintf("acceptor[%d]", i+1)
		a := Acceptor{Baud: 9600, Values: map[string]int64{}}
		if s, ok := p.str(m, t, "name", `"coins"`, true); ok {
			switch {
			case !nameRe.MatchString(s):
				p.add(t+".name", "%q must be 1 to 32 lower-case letters, digits, dashes or underscores; write e.g. name = \"coins\"", s)
			case names[s] != "":
				p.add(t+".name", "%q is already used by %s; every device needs its own name", s, names[s])
			default:
				a.Name = s
				names[s] = RenderKey(t)
			}
		}
		a.Port = p.port(m, t)
		if a.Port != "" {
			if other, dup := ports[a.Port]; dup {
				p.add(t+".port", "%q is already used by %s; each device needs its own serial port", a.Port, other)
			} else {
				ports[a.Port] = renderNamedKey(t, a.Name)
			}
		}
		if s, ok := p.str(m, t, "protocol", `"pulse"`, true); ok {
			switch Protocol(s) {
			case ProtocolPulse, ProtocolCCTalk, ProtocolESSP:
				a.Protocol = Protocol(s)
			default:
				p.add(t+".protocol", "%q is not a protocol; write protocol = \"pulse\", \"cctalk\" or \"essp\"", s)
			}
		}
		a.Baud = p.baud(m, t)
		p.values(m, t, &a)
		p.protocolKeys(m, t, &a)
		p.cashbox(m, t, &a)
		c.Acceptors = append(c.Acceptors, a)
	}
	var smallest int64
	for _, a := range c.Acceptors {
		for _, v := range a.Values {
			if smallest == 0 || v < smallest {
				smallest = v
			}
		}
	}
	if c.Kiosk.MaxTopup > 0 && smallest > c.Kiosk.MaxTopup {
		p.add("kiosk.max_topup", "%s is less than the smallest coin or note (%s): the kiosk could never take money", FormatAmount(c.Kiosk.MaxTopup), FormatAmount(smallest))
	}
	nameAcceptors(p.ps, c.Acceptors)
}

// cashbox reads cashbox_capacity (pieces, optional) and cashbox_near_full
// (percent, 50..100, default 95).
func (p *parser) cashbox(m rawAcceptor, t string, a *Acceptor) {
	a.CashboxNearFull = DefaultCashboxNearFull
	if n, ok := p.integer(m, t, "cashbox_capacity", "1000"); ok {
		if n < 1 || n > 1_000_000 {
			p.add(t+".cashbox_capacity", "%d is not a number of pieces between 1 and 1000000; write e.g. cashbox_capacity = 1000 (or leave it out)", n)
		} else {
			a.CashboxCapacity = int(n)
		}
	}
	if n, ok := p.integer(m, t, "cashbox_near_full", "95"); ok {
		switch {
		case n < 50 || n > 100:
			p.add(t+".cashbox_near_full", "%d is not a percentage between 50 and 100; write e.g. cashbox_near_full = 95", n)
		case a.CashboxCapacity == 0 && m["cashbox_capacity"] == nil:
			p.add(t+".cashbox_near_full", "has no effect without cashbox_capacity; add e.g. cashbox_capacity = 1000")
		default:
			a.CashboxNearFull = int(n)
		}
	}
}

func (p *parser) values(m rawAcceptor, t string, a *Acceptor) {
	v, ok := m["values"]
	if !ok {
		p.add(t+".values", "is missing; add a table of what each %s is worth, e.g. [acceptor.values] \"1\" = 0.10", keyWhat(a.Protocol))
		return
	}
	vm, ok := v.(map[string]any)
	if !ok || len(vm) == 0 {
		p.add(t+".values", "%s is not a table of values; write e.g. [acceptor.values] with lines like \"1\" = 0.10", describe(v))
		return
	}
	lo, hi, what := valueKeyRange(a.Protocol)
	keys := make([]string, 0, len(vm))
	for k := range vm {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		kk := t + ".values." + k
		n, err := strconv.Atoi(k)
		if err != nil || strconv.Itoa(n) != k || n < lo || n > hi {
			p.add(kk, "%q is not %s; a values key is a whole number %d..%d without leading zeros, e.g. \"%d\" = 0.50", k, what, lo, hi, lo)
			continue
		}
		amt, err := ParseAmount(vm[k])
		if err != nil {
			p.add(kk, "%v; write e.g. \"%s\" = 0.50", err, k)
			continue
		}
		if amt == 0 {
			p.add(kk, "is zero; every coin or note must be worth something; write e.g. \"%s\" = 0.50", k)
			continue
		}
		a.Values[k] = amt
	}
}

func keyWhat(pr Protocol) string {
	_, _, w := valueKeyRange(pr)
	return w
}

// protocolKeys checks each protocol's own keys and refuses the others'.
func (p *parser) protocolKeys(m rawAcceptor, t string, a *Acceptor) {
	owner := map[string]Protocol{
		"pulse_gap": ProtocolPulse, "encoding": ProtocolPulse,
		"address": ProtocolCCTalk, "crc16": ProtocolCCTalk, "poll_interval": ProtocolCCTalk,
		"encryption": ProtocolESSP, "key_file": ProtocolESSP, "fixed_key": ProtocolESSP,
	}
	for _, k := range []string{"pulse_gap", "encoding", "address", "crc16", "poll_interval", "encryption", "key_file", "fixed_key"} {
		if _, ok := m[k]; ok && a.Protocol != "" && owner[k] != a.Protocol {
			p.add(t+"."+k, "applies only to protocol = %q, this acceptor is %q; remove it", owner[k], a.Protocol)
		}
	}
	switch a.Protocol {
	case ProtocolPulse:
		a.PulseGap = p.duration(m, t, "pulse_gap", `"150ms"`, pulseGapRange, 150*time.Millisecond)
		p.encoding(m, t, a)
	case ProtocolCCTalk:
		a.Address = 2
		if n, ok := p.integer(m, t, "address", "2"); ok {
			if n < 2 || n > 255 {
				p.add(t+".address", "%d is not a ccTalk device address (2..255; 1 is the kiosk itself); write e.g. address = 2", n)
			} else {
				a.Address = int(n)
			}
		}
		if b, ok := p.boolean(m, t, "crc16"); ok {
			a.CRC16 = b
		}
		a.PollInterval = p.duration(m, t, "poll_interval", `"200ms"`, pollIntervalRange, 200*time.Millisecond)
	case ProtocolESSP:
		if b, ok := p.boolean(m, t, "encryption"); ok {
			a.Encryption = b
		}
		a.KeyFile = p.path(m, t, "key_file", `"/etc/kioskd/essp-key"`, false)
		if s, ok := p.str(m, t, "fixed_key", `"0123456701234567"`, false); ok {
			if !hexKeyRe.MatchString(s) {
				p.add(t+".fixed_key", "is not 16 hexadecimal digits; write e.g. fixed_key = \"0123456701234567\"")
			} else {
				a.FixedKey = Secret(s)
			}
		}
		if a.KeyFile != "" && a.FixedKey != "" {
			p.add(t+".fixed_key", "and key_file are both set; keep one (key_file keeps the key out of the config)")
		}
		if !a.Encryption && (a.KeyFile != "" || a.FixedKey != "") {
			p.add(t+".encryption", "is off but a key is configured; write encryption = true or remove the key")
		}
	}
}

// Pulse bridge encodings, and the largest count a count_byte bridge can
// send (bytes from 0x20 up are a banner's text).
const (
	EncodingPulse     = "pulse"
	EncodingCountByte = "count_byte"
	EncodingCountLine = "count_line"
	maxCountByte      = 31
)

func (p *parser) encoding(m rawAcceptor, t string, a *Acceptor) {
	a.Encoding = EncodingPulse
	s, ok := p.str(m, t, "encoding", `"pulse"`, false)
	if !ok || s == "" {
		return
	}
	switch s {
	case EncodingPulse, EncodingCountLine:
		a.Encoding = s
	case EncodingCountByte:
		a.Encoding = s
		for k := range a.Values {
			if n, err := strconv.Atoi(k); err == nil && n > maxCountByte {
				p.add(t+".values."+k, "a count_byte bridge reports 1..%d pulses in one byte (larger bytes are text); program the acceptor with fewer pulses or use encoding = \"count_line\"", maxCountByte)
			}
		}
	default:
		p.add(t+".encoding", "%q is not a bridge encoding; write encoding = \"pulse\" (a byte per pulse), \"count_byte\" (a byte holding the pulse count) or \"count_line\" (a text line holding the count)", s)
	}
}

func (p *parser) monitor(m map[string]any, mon *Monitor) {
	const t = "monitor"
	s, ok := p.str(m, t, "listen", `"127.0.0.1:9464"`, false)
	if !ok || s == "" {
		return
	}
	host, port, err := net.SplitHostPort(s)
	n, perr := strconv.Atoi(port)
	if err != nil || perr != nil || n < 1 || n > 65535 {
		p.add(t+".listen", "%q is not host:port; write e.g. listen = \"127.0.0.1:9464\"", s)
		return
	}
	if host != "" && net.ParseIP(host) == nil && !strings.EqualFold(host, "localhost") {
		p.add(t+".listen", "%q: the host must be an IP address (the kiosk does not resolve names to listen); write e.g. listen = \"127.0.0.1:9464\"", s)
		return
	}
	mon.Listen = s
	p.monitorRemote(m, mon)
}

// Load reads the config file, validates it, and resolves what depends on the
// machine: relative paths against the file's directory, the state directory
// ($STATE_DIRECTORY first), and the secrets (systemd credentials first).
func Load(path string) (*Config, error) {
	return load(path, os.Getenv)
}

func load(path string, getenv func(string) string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, Problems{{File: path, Msg: fmt.Sprintf("cannot read the config: %v", err)}}
	}
	c, err := Parse(data, path)
	if err != nil {
		return nil, err
	}
	c.resolvePaths(getenv)
	if ps := c.loadSecrets(getenv); len(ps) > 0 {
		return nil, ps
	}
	return c, nil
}

// resolvePaths makes file keys absolute against the config's directory and
// settles the state directory and its defaults.
func (c *Config) resolvePaths(getenv func(string) string) {
	base := filepath.Dir(c.File)
	abs := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(base, p)
	}
	c.Kiosk.StateDir = StateDir(c.Kiosk.StateDir, getenv)
	if c.Kiosk.ReceiptKeyFile == "" {
		c.Kiosk.ReceiptKeyFile = filepath.Join(c.Kiosk.StateDir, "receipt.key")
	}
	c.Kiosk.ReceiptKeyFile = abs(c.Kiosk.ReceiptKeyFile)
	c.Kiosk.TechnicianPINFile = abs(c.Kiosk.TechnicianPINFile)
	c.MyQ.ClientSecretFile = abs(c.MyQ.ClientSecretFile)
	c.MyQ.CAFile = abs(c.MyQ.CAFile)
	for i := range c.Acceptors {
		c.Acceptors[i].KeyFile = abs(c.Acceptors[i].KeyFile)
	}
}

// StateDir picks the state directory: $STATE_DIRECTORY (set by systemd's
// StateDirectory=; the first entry if it lists several), else the config
// value, else DefaultStateDir.
func StateDir(configured string, getenv func(string) string) string {
	if getenv == nil {
		getenv = os.Getenv
	}
	if env := getenv("STATE_DIRECTORY"); env != "" {
		first, _, _ := strings.Cut(env, ":")
		return first
	}
	if configured != "" {
		return configured
	}
	return DefaultStateDir
}
