package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func writeCA(t *testing.T, path string, notAfter time.Time) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "MyQ Certificate Authority"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: notAfter, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), 0o644)
}

// A site with real files and a real pty as every serial port passes, and
// the check says what it looked at.
func TestCheckFileGood(t *testing.T) {
	dir := t.TempDir()
	var ports []string
	for range 3 {
		ptmx, tty, err := pty.Open()
		if err != nil {
			t.Skipf("no pty: %v", err)
		}
		t.Cleanup(func() { ptmx.Close(); tty.Close() })
		ports = append(ports, tty.Name())
	}
	state := filepath.Join(dir, "state")
	if err := os.Mkdir(state, 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "secret"), "s3cret\n", 0o600)
	writeCA(t, filepath.Join(dir, "ca.pem"), time.Now().Add(365*24*time.Hour))
	src := strings.NewReplacer(
		"/dev/ttyUSB0", ports[0], "/dev/ttyUSB1", ports[1], "/dev/ttyUSB2", ports[2],
		`client_secret_file = "secret"`, "client_secret_file = \"secret\"\nca_file = \"ca.pem\"",
	).Replace(base)
	cfg := filepath.Join(dir, "kioskd.toml")
	writeFile(t, cfg, src+"\n", 0o644)

	env := map[string]string{"STATE_DIRECTORY": state}
	checked, ps := CheckFile(cfg, CheckOptions{Getenv: func(k string) string { return env[k] }})
	if len(ps) > 0 {
		t.Fatalf("problems on a good site: %v", ps)
	}
	all := strings.Join(checked, "\n")
	for _, want := range []string{"TOML syntax, keys and values", "state directory " + state + " is writable",
		"MyQ client secret", "MyQ CA file", "MyQ Certificate Authority", "receipt key", "card reader port " + ports[0],
		`pulse acceptor "coins" port ` + ports[1], `essp acceptor "notes" port ` + ports[2]} {
		if !strings.Contains(all, want) {
			t.Errorf("check output lacks %q:\n%s", want, all)
		}
	}
	if strings.Contains(all, "s3cret") {
		t.Errorf("check output shows the secret:\n%s", all)
	}
}

// A broken site: every problem is named, with the hint that fixes it, and
// value problems do not stop the file checks.
func TestCheckFileProblems(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "secret"), "s3cret\n", 0o640)
	writeFile(t, filepath.Join(dir, "ca.pem"), "not a cert\n", 0o644)
	writeFile(t, filepath.Join(dir, "notadev"), "", 0o644)
	src := strings.NewReplacer(
		"/dev/ttyUSB0", "/dev/kiosk-test-does-not-exist",
		"/dev/ttyUSB1", filepath.Join(dir, "notadev"),
		`max_topup = 50.00`, `max_topup = "fifty"`,
		`client_secret_file = "secret"`, "client_secret_file = \"secret\"\nca_file = \"ca.pem\"",
	).Replace(base)
	cfg := filepath.Join(dir, "kioskd.toml")
	writeFile(t, cfg, src, 0o644)
	env := map[string]string{"STATE_DIRECTORY": filepath.Join(dir, "missing-state")}
	_, ps := CheckFile(cfg, CheckOptions{Getenv: func(k string) string { return env[k] }})
	all := ps.Error()
	for _, want := range []string{
		`[kiosk] max_topup: "fifty" is not an amount`,
		`kioskd.toml:16: [card_reader] port: /dev/kiosk-test-does-not-exist does not exist; is the device plugged in? run ` + "`kioskctl ports`",
		`[[acceptor]] "coins" port: ` + filepath.Join(dir, "notadev") + ` is not a serial device`,
		`[myq] client_secret_file: ` + filepath.Join(dir, "secret") + ` is readable by group or others (mode 0640); fix it with: chmod 600`,
		`[myq] ca_file: ` + filepath.Join(dir, "ca.pem") + ` holds no PEM certificate`,
		`[kiosk] state_dir: state directory ` + filepath.Join(dir, "missing-state") + ` does not exist`,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("problems lack %q:\n%s", want, all)
		}
	}
}

func TestCheckExpiredCA(t *testing.T) {
	dir := t.TempDir()
	writeCA(t, filepath.Join(dir, "ca.pem"), time.Now().Add(time.Hour))
	_, err := checkCAFile(filepath.Join(dir, "ca.pem"), time.Now().Add(48*time.Hour))
	if err == nil || !strings.Contains(err.Error(), "expired") {
		t.Errorf("expired CA accepted: %v", err)
	}
}

func TestCheckUnreadableConfig(t *testing.T) {
	_, ps := CheckFile(filepath.Join(t.TempDir(), "none.toml"), CheckOptions{})
	if len(ps) != 1 || !strings.Contains(ps.Error(), "cannot read the config") {
		t.Errorf("problems = %v", ps)
	}
}

// check-config warns (without failing) when an eSSP validator runs without
// encryption or with ITL's published factory key, and says why.
func TestCheckWarnsWeakESSP(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "own-key"), "8F3A11C2D4E5F607\n", 0o600)
	writeFile(t, filepath.Join(dir, "factory-key"), "0123456701234567\n", 0o600)
	for _, tc := range []struct {
		name, essp, want string
	}{
		{"off", "", "encryption is off: anyone who opens the cabinet can wire into the validator's serial line and inject note credits"},
		{"default key", "encryption = true", "uses ITL's factory fixed key, which is published"},
		{"factory key in a file", "encryption = true\nkey_file = \"factory-key\"", "uses ITL's factory fixed key"},
		{"own key", "encryption = true\nkey_file = \"own-key\"", ""},
	} {
		src := strings.Replace(base, `protocol = "essp"`, "protocol = \"essp\"\n"+tc.essp, 1)
		cfg := filepath.Join(dir, "kioskd.toml")
		writeFile(t, cfg, src, 0o644)
		checked, ps := CheckFile(cfg, CheckOptions{SkipPorts: true, Getenv: func(string) string { return "" }})
		var warnings []string
		for _, c := range checked {
			if w, ok := strings.CutPrefix(c, "warning: "); ok && strings.Contains(w, "eSSP") {
				warnings = append(warnings, w)
			}
		}
		for _, p := range ps {
			if strings.Contains(p.Msg, "essp") || strings.Contains(p.Key, "acceptor[2]") {
				t.Errorf("%s: a warning became a problem: %v", tc.name, p)
			}
		}
		got := strings.Join(warnings, "\n")
		if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
			t.Errorf("%s: warnings %q, want %q", tc.name, got, tc.want)
		}
		if strings.Contains(got, "8F3A11C2D4E5F607") {
			t.Errorf("%s: a warning shows the key", tc.name)
		}
	}
}

// A chain with mid gets a warning, because mid changed to MyQ's meaning;
// one without it does not, and neither is a problem.
func TestCheckWarnsOnMid(t *testing.T) {
	for _, tc := range []struct {
		chain string
		warn  bool
	}{{"mid(2,2)|hex2dec", true}, {"right(8)|hex2dec()|lpad(10,0)", false}} {
		dir := t.TempDir()
		src := strings.Replace(base, `transform = "right(8)|hex2dec|lpad(10,0)"`, `transform = "`+tc.chain+`"`, 1)
		if !strings.Contains(src, tc.chain) {
			t.Fatal("base config has no transform line to replace")
		}
		cfg := filepath.Join(dir, "kioskd.toml")
		writeFile(t, cfg, src+"\n", 0o644)
		checked, _ := CheckFile(cfg, CheckOptions{SkipPorts: true, Getenv: func(string) string { return "" }})
		if got := slices.Contains(checked, TransformWarning); got != tc.warn {
			t.Errorf("%s: warning %v, want %v:\n%s", tc.chain, got, tc.warn, strings.Join(checked, "\n"))
		}
	}
}
