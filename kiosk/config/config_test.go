package config

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// base is a small valid config; tests replace lines of it.
const base = `[kiosk]
id = "lib-1"
currency = "EUR"
languages = ["en", "de"]
min_topup = 0.50
max_topup = 50.00
idle_finish = "20s"

[myq]
url = "https://myq.example.edu:8090"
client_id = "kiosk"
client_secret_file = "secret"

[card_reader]
port = "/dev/ttyUSB0"
format = "rdm6300"
transform = "right(8)|hex2dec|lpad(10,0)"

[[acceptor]]
name = "coins"
port = "/dev/ttyUSB1"
protocol = "pulse"
pulse_gap = "150ms"
[acceptor.values]
"1" = 0.10
"5" = 0.50
"10" = 1.00

[[acceptor]]
name = "notes"
port = "/dev/ttyUSB2"
protocol = "essp"
[acceptor.values]
"1" = 5.00
"2" = 10
`

func mustParse(t *testing.T, src string) *Config {
	t.Helper()
	c, err := Parse([]byte(src), "kioskd.toml")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return c
}

func TestParseValid(t *testing.T) {
	c := mustParse(t, base)
	if c.Kiosk.MinTopup != 50 || c.Kiosk.MaxTopup != 5000 {
		t.Errorf("topups = %d, %d; want 50, 5000", c.Kiosk.MinTopup, c.Kiosk.MaxTopup)
	}
	if c.Kiosk.IdleFinish != 20*time.Second || c.Kiosk.CardTimeout != 30*time.Second {
		t.Errorf("durations = %v, %v", c.Kiosk.IdleFinish, c.Kiosk.CardTimeout)
	}
	if got := c.Acceptors[0].Values; got["1"] != 10 || got["5"] != 50 || got["10"] != 100 {
		t.Errorf("coin values = %v", got)
	}
	if got := c.Acceptors[1].Values; got["1"] != 500 || got["2"] != 1000 {
		t.Errorf("note values = %v", got)
	}
	if c.Acceptors[0].PulseGap != 150*time.Millisecond || c.Acceptors[1].Protocol != ProtocolESSP {
		t.Errorf("acceptors = %+v", c.Acceptors)
	}
	if c.MyQ.Provider != "external" || c.MyQ.RequestTimeout != 10*time.Second {
		t.Errorf("myq defaults = %+v", c.MyQ)
	}
	if c.CardReader.Baud != 9600 {
		t.Errorf("baud default = %d", c.CardReader.Baud)
	}
}

// Every amount a technician may write comes out exact.
func TestParseAmount(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want int64
		err  string
	}{
		{0.5, 50, ""}, {0.1, 10, ""}, {0.29, 29, ""}, {1.15, 115, ""}, {50.0, 5000, ""},
		{0.07, 7, ""}, {1234.56, 123456, ""}, {int64(50), 5000, ""}, {"0.50", 50, ""},
		{"2", 200, ""}, {"19.99", 1999, ""}, {int64(0), 0, ""},
		{0.505, 0, "more than 2 decimals"}, {"0.505", 0, "more than 2 decimals"},
		{-1.0, 0, "negative"}, {int64(-3), 0, "negative"}, {"-0.50", 0, "negative"},
		{math.NaN(), 0, "not an amount"}, {math.Inf(1), 0, "not an amount"},
		{1e300, 0, "largest amount"}, {int64(1) << 62, 0, "largest amount"}, {"100000.01", 0, "largest amount"},
		{"fifty", 0, "not an amount"}, {"", 0, "not an amount"}, {"1.", 0, "not an amount"},
		{".5", 0, "not an amount"}, {"1e3", 0, "not an amount"}, {true, 0, "not an amount"},
		{5e-324, 0, "more than 2 decimals"},
	} {
		got, err := ParseAmount(tc.in)
		if tc.err == "" {
			if err != nil || got != tc.want {
				t.Errorf("ParseAmount(%#v) = %d, %v; want %d", tc.in, got, err, tc.want)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("ParseAmount(%#v) = %d, %v; want error with %q", tc.in, got, err, tc.err)
		}
	}
}

// Each bad config gives problems naming the file, line, key, what is wrong
// and an example of right.
func TestParseProblems(t *testing.T) {
	for _, tc := range []struct {
		name    string
		old     string // replaced in base
		new     string
		want    []string // substrings of the error, each must appear
		wantLen int      // number of problems, 0 = don't care
	}{
		{"amount as word", `max_topup = 50.00`, `max_topup = "fifty"`,
			[]string{`kioskd.toml:6: [kiosk] max_topup: "fifty" is not an amount; write e.g. max_topup = 50.00`}, 1},
		{"unknown key with line", `currency = "EUR"`, "currency = \"EUR\"\ncolour = \"red\"",
			[]string{`kioskd.toml:4: [kiosk] colour: unknown key "colour" in [kiosk]`}, 1},
		{"unknown key in second acceptor", `protocol = "essp"`, "protocol = \"essp\"\nspeed = 3",
			[]string{`kioskd.toml:33: [[acceptor]] "notes" speed: unknown key "speed"`}, 1},
		{"unknown table", `[card_reader]`, "[printer]\nx = 1\n[card_reader]",
			[]string{`kioskd.toml:14: printer: unknown table`}, 1},
		{"three decimals", `min_topup = 0.50`, `min_topup = 0.505`, []string{"min_topup: 0.505 has more than 2 decimals"}, 1},
		{"negative", `"5" = 0.50`, `"5" = -0.50`, []string{`kioskd.toml:26: [[acceptor]] "coins" values.5: -0.5 is negative`}, 1},
		{"min above max", `min_topup = 0.50`, `min_topup = 60`, []string{"min_topup: 60.00 is more than max_topup 50.00"}, 1},
		{"duration without unit", `idle_finish = "20s"`, `idle_finish = 20`, []string{`idle_finish: 20 is a number without a unit; write e.g. idle_finish = "20s"`}, 1},
		{"duration zero", `idle_finish = "20s"`, `idle_finish = "0s"`, []string{`must be more than zero`}, 1},
		{"duration absurd", `idle_finish = "20s"`, `idle_finish = "20h"`, []string{`"20h" is outside 3s..10m0s`}, 1},
		{"bad language", `["en", "de"]`, `["en", "fr"]`, []string{`"fr" is not a language the kiosk speaks`}, 1},
		{"duplicate language", `["en", "de"]`, `["en", "en"]`, []string{`"en" is listed twice`}, 1},
		{"currency", `currency = "EUR"`, `currency = "euro"`, []string{`"euro" is not an ISO 4217 currency code`}, 1},
		{"kiosk id", `id = "lib-1"`, `id = "lib 1/../x"`, []string{`[kiosk] id: "lib 1/../x" must be 1 to 32 letters`}, 1},
		{"http remote", `https://myq.example.edu:8090`, `http://myq.example.edu:8090`, []string{`uses plain http to a host that is not this machine`}, 1},
		{"ftp", `https://myq.example.edu:8090`, `ftp://myq`, []string{`must start with https://`}, 1},
		{"values key zero-padded", `"5" = 0.50`, `"05" = 0.50`, []string{`"05" is not a pulse count`}, 1},
		{"ssp channel too big", `"2" = 10`, `"99" = 10`, []string{`"99" is not an SSP channel`}, 1},
		{"duplicate name", `name = "notes"`, `name = "coins"`, []string{`"coins" is already used by [[acceptor]] #1`}, 1},
		{"duplicate port", `port = "/dev/ttyUSB2"`, `port = "/dev/ttyUSB1"`, []string{`"/dev/ttyUSB1" is already used by [[acceptor]] "coins"`}, 1},
		{"reader port shared", `port = "/dev/ttyUSB2"`, `port = "/dev/ttyUSB0"`, []string{`already used by [card_reader]`}, 1},
		{"wrong protocol key", `protocol = "essp"`, "protocol = \"essp\"\npulse_gap = \"1s\"", []string{`pulse_gap: applies only to protocol = "pulse"`}, 1},
		{"bad protocol", `protocol = "essp"`, `protocol = "mdb"`, []string{`"mdb" is not a protocol`}, 0},
		{"bad encoding", `pulse_gap = "150ms"`, "pulse_gap = \"150ms\"\nencoding = \"ascii\"", []string{`[[acceptor]] "coins" encoding: "ascii" is not a bridge encoding; write encoding = "pulse"`}, 1},
		{"encoding on essp", `protocol = "essp"`, "protocol = \"essp\"\nencoding = \"pulse\"", []string{`encoding: applies only to protocol = "pulse"`}, 1},
		{"count_byte count above 31", "pulse_gap = \"150ms\"\n[acceptor.values]\n\"1\" = 0.10", "pulse_gap = \"150ms\"\nencoding = \"count_byte\"\n[acceptor.values]\n\"40\" = 0.10", []string{`values.40: a count_byte bridge reports 1..31 pulses`}, 1},
		{"transform word", `right(8)|hex2dec`, `right(8)|hexdec`, []string{`[card_reader] transform:`, `hexdec`}, 1},
		{"transform args", `right(8)|hex2dec`, `right()|hex2dec`, []string{`[card_reader] transform:`, `right`}, 1},
		{"pattern on rdm6300", `transform =`, "pattern = \"(x)\"\ntransform =", []string{`pattern: applies only to format = "line"`}, 1},
		{"format", `format = "rdm6300"`, `format = "wiegand"`, []string{`"wiegand" is not a reader format`}, 1},
		{"baud", `format = "rdm6300"`, "format = \"rdm6300\"\nbaud = 9601", []string{`9601 is not a standard baud rate`}, 1},
		{"missing url", `url = "https://myq.example.edu:8090"`, ``, []string{`[myq] url: is missing; write e.g. url =`}, 1},
		{"wrong type", `client_id = "kiosk"`, `client_id = 7`, []string{`[myq] client_id: 7 is not text`}, 1},
		{"bad toml", `[myq]`, `[myq`, []string{`not valid TOML: expected`}, 1},
		{"max below smallest note", `max_topup = 50.00`, `max_topup = 0.05`, []string{`max_topup: 0.05 is less than the smallest coin`}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(base, tc.old) {
				t.Fatalf("test bug: %q not in base", tc.old)
			}
			src := strings.Replace(base, tc.old, tc.new, 1)
			_, err := Parse([]byte(src), "kioskd.toml")
			if err == nil {
				t.Fatal("Parse accepted a bad config")
			}
			var ps Problems
			if !errors.As(err, &ps) {
				t.Fatalf("error %T is not Problems", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not say %q:\n%v", w, err)
				}
			}
			if tc.wantLen > 0 && len(ps) != tc.wantLen {
				t.Errorf("%d problems, want %d:\n%v", len(ps), tc.wantLen, err)
			}
		})
	}
}

// All problems are reported at once, not only the first.
func TestParseCollectsAllProblems(t *testing.T) {
	src := strings.NewReplacer(
		`max_topup = 50.00`, `max_topup = "fifty"`,
		`currency = "EUR"`, `currency = "E"`,
		`pulse_gap = "150ms"`, `pulse_gap = "fast"`,
		`client_id = "kiosk"`, "client_id = \"kiosk\"\ntypo = 1",
	).Replace(base)
	_, err := Parse([]byte(src), "kioskd.toml")
	var ps Problems
	if !errors.As(err, &ps) || len(ps) != 4 {
		t.Fatalf("want 4 problems, got %v", err)
	}
	for _, p := range ps {
		if p.Line == 0 || p.Key == "" || p.File != "kioskd.toml" {
			t.Errorf("problem without place: %+v", p)
		}
	}
}

func TestParseProtocolKeys(t *testing.T) {
	src := base + `
[[acceptor]]
name = "cc"
port = "/dev/ttyUSB3"
protocol = "cctalk"
address = 40
crc16 = true
poll_interval = "100ms"
[acceptor.values]
"1" = 0.50
"16" = 2
`
	c := mustParse(t, src)
	a := c.Acceptors[2]
	if a.Address != 40 || !a.CRC16 || a.PollInterval != 100*time.Millisecond || a.Values["16"] != 200 {
		t.Errorf("cctalk acceptor = %+v", a)
	}
	bad := strings.Replace(src, "address = 40", "address = 1", 1)
	if _, err := Parse([]byte(bad), "k.toml"); err == nil || !strings.Contains(err.Error(), "1 is the kiosk itself") {
		t.Errorf("address 1 accepted: %v", err)
	}
	essp := strings.Replace(base, `protocol = "essp"`, "protocol = \"essp\"\nencryption = true\nfixed_key = \"0123456701234567\"", 1)
	c = mustParse(t, essp)
	if !c.Acceptors[1].Encryption || c.Acceptors[1].FixedKey.Reveal() != "0123456701234567" {
		t.Errorf("essp = %+v", c.Acceptors[1])
	}
	if s := fmt.Sprint(c.Acceptors[1].FixedKey); strings.Contains(s, "0123") {
		t.Errorf("secret printed itself: %s", s)
	}
	both := strings.Replace(essp, `fixed_key =`, "key_file = \"k\"\nfixed_key =", 1)
	if _, err := Parse([]byte(both), "k.toml"); err == nil || !strings.Contains(err.Error(), "keep one") {
		t.Errorf("key_file and fixed_key both accepted: %v", err)
	}
}

func TestLineReaderPattern(t *testing.T) {
	src := strings.Replace(base, `format = "rdm6300"`, "format = \"line\"\npattern = \"^ID:([0-9A-F]+)$\"", 1)
	if c := mustParse(t, src); c.CardReader.Pattern != "^ID:([0-9A-F]+)$" {
		t.Errorf("pattern = %q", c.CardReader.Pattern)
	}
	two := strings.Replace(src, `([0-9A-F]+)`, `(I)(D)`, 1)
	if _, err := Parse([]byte(two), "k.toml"); err == nil || !strings.Contains(err.Error(), "has 2 groups") {
		t.Errorf("pattern with 2 groups: %v", err)
	}
}

func TestURLs(t *testing.T) {
	for in, want := range map[string]string{
		"https://myq:8090/":      "https://myq:8090",
		"http://127.0.0.1:8090":  "http://127.0.0.1:8090",
		"http://[::1]:8090":      "http://[::1]:8090",
		"http://localhost:18090": "http://localhost:18090",
		"http://10.0.0.1:8090":   "",
		"https://u:p@myq:8090":   "",
		"https://myq:99999":      "",
		"myq.example.edu":        "",
	} {
		got, msg := checkURL(in)
		if got != want || (want == "") != (msg != "") {
			t.Errorf("checkURL(%q) = %q, %q; want %q", in, got, msg, want)
		}
	}
}

func writeFile(t *testing.T, path, data string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func TestLoadSecretAndStateDir(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "kioskd.toml")
	writeFile(t, cfgPath, base, 0o644)
	writeFile(t, filepath.Join(dir, "secret"), "s3cret\n", 0o600)
	t.Setenv("STATE_DIRECTORY", "")
	t.Setenv("CREDENTIALS_DIRECTORY", "")

	c, err := Load(cfgPath)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if c.MyQ.ClientSecret.Reveal() != "s3cret" {
		t.Errorf("secret = %q (trailing newline must go)", c.MyQ.ClientSecret.Reveal())
	}
	if c.Kiosk.StateDir != DefaultStateDir || c.Kiosk.ReceiptKeyFile != DefaultStateDir+"/receipt.key" {
		t.Errorf("state dir %q receipt key %q", c.Kiosk.StateDir, c.Kiosk.ReceiptKeyFile)
	}
	if c.MyQ.ClientSecretFile != filepath.Join(dir, "secret") {
		t.Errorf("relative secret path not resolved: %q", c.MyQ.ClientSecretFile)
	}

	t.Setenv("STATE_DIRECTORY", "/var/lib/kioskd-x:/other")
	if c, err = Load(cfgPath); err != nil || c.Kiosk.StateDir != "/var/lib/kioskd-x" {
		t.Errorf("STATE_DIRECTORY not used: %v %v", c, err)
	}

	// A systemd credential of the same base name wins.
	creds := t.TempDir()
	writeFile(t, filepath.Join(creds, "secret"), "from-credential", 0o440)
	t.Setenv("CREDENTIALS_DIRECTORY", creds)
	if c, err = Load(cfgPath); err != nil || c.MyQ.ClientSecret.Reveal() != "from-credential" {
		t.Errorf("credential not used: %v", err)
	}
	t.Setenv("CREDENTIALS_DIRECTORY", "")

	// A secret others can read is refused, with the chmod that fixes it.
	writeFile(t, filepath.Join(dir, "secret"), "s3cret\n", 0o644)
	_, err = Load(cfgPath)
	if err == nil || !strings.Contains(err.Error(), "chmod 600 "+filepath.Join(dir, "secret")) {
		t.Errorf("world-readable secret: %v", err)
	}
	if err != nil && !strings.Contains(err.Error(), "client_secret_file") {
		t.Errorf("problem does not name the key: %v", err)
	}
	if err != nil && strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error leaks the secret: %v", err)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.toml"))
	if err == nil || !strings.Contains(err.Error(), "cannot read the config") {
		t.Errorf("Load(missing) = %v", err)
	}
}

// The line scanner finds keys where BurntSushi keeps positions private.
func TestKeyLines(t *testing.T) {
	src := `# c
[a]
x = 1 # c
"q.k" = 2
m = """
y = 3
"""
arr = [
  1,
  2,
]
[[b]]
z = 1
[b.sub]
w = 2
[[b]]
z = 2
`
	li := scanKeyLines([]byte(src))
	for key, want := range map[string]int{
		"a.x": 3, "a.q.k": 4, "a.m": 5, "a.arr": 8, "b[1].z": 13, "b[1].sub.w": 15, "b[2].z": 17, "b[2]": 16, "a.y": 2, "nope": 0,
	} {
		if got := li.line(key); got != want {
			t.Errorf("line(%q) = %d, want %d", key, got, want)
		}
	}
}

// Issue 11: [kiosk] claim_window (default 60 s, 10 s..10 min) and
// card_cache_ttl (default 30 days).
func TestClaimWindowAndCardCacheTTL(t *testing.T) {
	c := mustParse(t, base)
	if c.Kiosk.ClaimWindow != time.Minute || c.Kiosk.CardCacheTTL != 30*24*time.Hour {
		t.Fatalf("defaults %v %v", c.Kiosk.ClaimWindow, c.Kiosk.CardCacheTTL)
	}
	c = mustParse(t, strings.Replace(base, `idle_finish = "20s"`, "idle_finish = \"20s\"\nclaim_window = \"2m\"\ncard_cache_ttl = \"48h\"", 1))
	if c.Kiosk.ClaimWindow != 2*time.Minute || c.Kiosk.CardCacheTTL != 48*time.Hour {
		t.Fatalf("set %v %v", c.Kiosk.ClaimWindow, c.Kiosk.CardCacheTTL)
	}
	if _, err := Parse([]byte(strings.Replace(base, `idle_finish = "20s"`, "idle_finish = \"20s\"\nclaim_window = \"5s\"", 1)), "k.toml"); err == nil || !strings.Contains(err.Error(), "outside 10s..10m0s") {
		t.Fatalf("claim_window 5s: %v", err)
	}
}

// Issue 18: [myq] drain_spacing paces a queue left by an outage (default
// 23 s, the spacing that keeps 500 kiosks under 50 requests/s).
func TestDrainSpacing(t *testing.T) {
	if c := mustParse(t, base); c.MyQ.DrainSpacing != 23*time.Second {
		t.Fatalf("default %v", c.MyQ.DrainSpacing)
	}
	set := func(v string) string {
		return strings.Replace(base, "[myq]\n", "[myq]\ndrain_spacing = "+v+"\n", 1)
	}
	if c := mustParse(t, set(`"1s"`)); c.MyQ.DrainSpacing != time.Second {
		t.Fatalf("set: %v", c.MyQ.DrainSpacing)
	}
	if _, err := Parse([]byte(set(`"10m"`)), "k.toml"); err == nil || !strings.Contains(err.Error(), "[myq] drain_spacing") {
		t.Fatalf("drain_spacing 10m: %v", err)
	}
}
