package config

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/printroom/voucherkiosk/devices/card"
)

// CheckOptions tune Check for where it runs.
type CheckOptions struct {
	// Getenv reads the environment ($STATE_DIRECTORY,
	// $CREDENTIALS_DIRECTORY); nil means os.Getenv.
	Getenv func(string) string
	// SkipPorts leaves the serial ports unchecked (the demo puts simulators
	// there only when it starts).
	SkipPorts bool
	// Now is the clock for certificate expiry; nil means time.Now.
	Now func() time.Time
}

// problem makes a Problem for key with the line the key is on.
func (c *Config) problem(key, msg string) Problem {
	line := 0
	if c.lines != nil {
		line = c.lines.line(key)
	}
	pr := Problem{File: c.File, Line: line, Key: key, Msg: msg}
	if n := acceptorIndex(key); n >= 1 && n <= len(c.Acceptors) {
		pr.Name = c.Acceptors[n-1].Name
	}
	return pr
}

// Check checks what Load checks (the secrets) plus the machine around the
// config: the serial ports exist and may be opened, the files exist and are
// readable, the CA file holds certificates, the state directory is
// writable. checked lists, in plain words, every check that passed, so
// `check-config` can say what it looked at. cfg is not changed.
func Check(cfg *Config, opts CheckOptions) (checked []string, problems Problems) {
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	c := *cfg
	c.Acceptors = slices.Clone(cfg.Acceptors)
	c.resolvePaths(getenv)
	ok := func(format string, args ...any) { checked = append(checked, fmt.Sprintf(format, args...)) }
	bad := func(key, format string, args ...any) {
		problems = append(problems, c.problem(key, fmt.Sprintf(format, args...)))
	}

	// The state directory: the journal lives there, so it must take writes.
	stateOK := true
	if err := checkWritableDir(c.Kiosk.StateDir); err != nil {
		bad("kiosk.state_dir", "state directory %v", err)
		stateOK = false
	} else {
		ok("state directory %s is writable", c.Kiosk.StateDir)
	}

	// Secrets, as Load reads them.
	if c.MyQ.ClientSecretFile != "" {
		path, cred := ResolveSecretFile(c.MyQ.ClientSecretFile, getenv)
		if s, err := ReadSecretFile(path, cred); err != nil {
			bad("myq.client_secret_file", "%v", err)
		} else {
			ok("MyQ client secret file %s: readable, private, %d characters", path, len(s))
		}
	}
	for i, a := range c.Acceptors {
		if a.KeyFile == "" {
			continue
		}
		key := fmt.Sprintf("acceptor[%d].key_file", i+1)
		path, cred := ResolveSecretFile(a.KeyFile, getenv)
		s, err := ReadSecretFile(path, cred)
		switch {
		case err != nil:
			bad(key, "%v", err)
		case !hexKeyRe.MatchString(strings.TrimSpace(string(s))):
			bad(key, "%s does not hold 16 hexadecimal digits (the eSSP fixed key, e.g. 0123456701234567)", path)
		default:
			ok("eSSP key file %s for %s is readable and private", path, a.Name)
		}
	}

	// Allowed but risky: said as a warning, the config still passes.
	for _, w := range esspWarnings(&c, getenv) {
		checked = append(checked, "warning: "+w)
	}

	if c.MyQ.CAFile != "" {
		if desc, err := checkCAFile(c.MyQ.CAFile, now()); err != nil {
			bad("myq.ca_file", "%v", err)
		} else {
			ok("MyQ CA file %s: %s", c.MyQ.CAFile, desc)
		}
	} else if c.MyQ.URL != "" && strings.HasPrefix(c.MyQ.URL, "https:") {
		ok("MyQ server certificate will be checked against the system's CA roots (no ca_file)")
	}

	// mid(X,Y) changed meaning to MyQ's: a chain written for the old one
	// now yields another card number.
	if ch, err := card.ParseChain(c.CardReader.Transform); err == nil && ch.Uses("mid") {
		ok("%s", TransformWarning)
	}

	// A receipt key in a broken state directory is the same problem: say it once.
	if !stateOK && filepath.Dir(c.Kiosk.ReceiptKeyFile) == c.Kiosk.StateDir {
		// nothing
	} else if err := checkReceiptKey(c.Kiosk.ReceiptKeyFile); err != nil {
		bad("kiosk.receipt_key_file", "%v", err)
	} else if c.Kiosk.ReceiptKeyFile != "" {
		ok("receipt key %s is usable", c.Kiosk.ReceiptKeyFile)
	}

	if c.Kiosk.TechnicianPINFile != "" {
		if f, err := os.Open(c.Kiosk.TechnicianPINFile); err != nil {
			bad("kiosk.technician_pin_file", "cannot read the technician PIN file: %v", err)
		} else {
			f.Close()
			ok("technician PIN file %s is readable", c.Kiosk.TechnicianPINFile)
		}
	}

	if !opts.SkipPorts {
		if c.CardReader.Port != "" {
			if desc, err := checkPort(c.CardReader.Port); err != nil {
				bad("card_reader.port", "%v", err)
			} else {
				ok("card reader port %s %s", c.CardReader.Port, desc)
			}
		}
		for i, a := range c.Acceptors {
			if a.Port == "" {
				continue
			}
			if desc, err := checkPort(a.Port); err != nil {
				bad(fmt.Sprintf("acceptor[%d].port", i+1), "%v", err)
			} else {
				ok("%s acceptor %q port %s %s", a.Protocol, a.Name, a.Port, desc)
			}
		}
	}
	return checked, problems
}

// factoryKey is ITL's published default eSSP fixed key.
const factoryKey = "0123456701234567"

// esspWarnings says why an eSSP validator's settings leave the money open:
// the serial line runs inside the cabinet, and anyone who opens it can
// inject CREDIT events the kiosk books.
func esspWarnings(c *Config, getenv func(string) string) []string {
	var out []string
	for _, a := range c.Acceptors {
		if a.Protocol != ProtocolESSP {
			continue
		}
		if !a.Encryption {
			out = append(out, fmt.Sprintf("eSSP acceptor %q: encryption is off: anyone who opens the cabinet can wire into the validator's serial line and inject note credits that the kiosk books as money; set encryption = true", a.Name))
			continue
		}
		key := strings.TrimSpace(a.FixedKey.Reveal())
		if a.KeyFile != "" {
			path, cred := ResolveSecretFile(a.KeyFile, getenv)
			if s, err := ReadSecretFile(path, cred); err == nil {
				key = strings.TrimSpace(string(s))
			}
		}
		if key == "" || strings.EqualFold(key, factoryKey) {
			out = append(out, fmt.Sprintf("eSSP acceptor %q: uses ITL's factory fixed key, which is published: encryption then stops only a casual eavesdropper, and someone inside the cabinet who knows the key can still inject note credits; set your own key on the validator (ITL's Set Fixed Encryption Key) and in key_file", a.Name))
		}
	}
	return out
}

// CheckFile reads, parses and checks the config at path: what
// `kioskctl check-config` and `kioskd --check-config` run. Value problems do
// not stop the file checks, so one run names everything to fix.
func CheckFile(path string, opts CheckOptions) (checked []string, problems Problems) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, Problems{{File: path, Msg: fmt.Sprintf("cannot read the config: %v", err)}}
	}
	c, ps := parse(data, path)
	if c == nil {
		return nil, ps
	}
	if len(ps) == 0 {
		checked = append(checked, fmt.Sprintf("%s: TOML syntax, keys and values (%d acceptor(s), reader %s)", path, len(c.Acceptors), c.CardReader.Format))
	}
	more, mps := Check(c, opts)
	return append(checked, more...), append(ps, mps...)
}

func checkWritableDir(dir string) error {
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s does not exist; systemd creates it when kioskd starts (StateDirectory=kioskd), or create it: install -d -o kiosk -g kiosk -m 0700 %s", dir, dir)
	}
	if err != nil {
		return fmt.Errorf("%s: %v", dir, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	f, err := os.CreateTemp(dir, ".check-config-*")
	if err != nil {
		return fmt.Errorf("%s is not writable: %v", dir, err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// checkCAFile says how many certificates the PEM file holds and when the
// first expires.
func checkCAFile(path string, now time.Time) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("cannot read the CA file: %v (export the MyQ CA certificate as PEM, see README)", err)
	}
	var certs []*x509.Certificate
	rest := b
	for {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return "", fmt.Errorf("%s holds a certificate that does not parse: %v", path, err)
		}
		certs = append(certs, cert)
	}
	if len(certs) == 0 {
		return "", fmt.Errorf("%s holds no PEM certificate (-----BEGIN CERTIFICATE-----); a .cer exported as DER converts with: openssl x509 -inform der -in myq-ca.cer -out %s", path, path)
	}
	for _, cert := range certs {
		if now.After(cert.NotAfter) {
			return "", fmt.Errorf("%s: certificate %q expired on %s", path, cert.Subject.CommonName, cert.NotAfter.Format("2006-01-02"))
		}
	}
	return fmt.Sprintf("%d certificate(s), first %q valid until %s", len(certs), certs[0].Subject.CommonName, certs[0].NotAfter.Format("2006-01-02")), nil
}

// checkReceiptKey: an existing key must be private and readable; a missing
// one must be creatable (the daemon generates it).
func checkReceiptKey(path string) error {
	if path == "" {
		return nil
	}
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		if err := checkWritableDir(filepath.Dir(path)); err != nil {
			return fmt.Errorf("%s is missing and cannot be generated: %v", path, err)
		}
		return nil
	}
	if err != nil {
		return err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("%s is readable by group or others (mode %04o); fix it with: chmod 600 %s", path, fi.Mode().Perm(), path)
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("cannot read the receipt key: %v", err)
	}
	return f.Close()
}

// checkPort checks a serial port path without opening it (opening may
// toggle modem lines, and a running kioskd holds it exclusively).
func checkPort(path string) (string, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("%s does not exist; is the device plugged in? run `kioskctl ports` to list the serial ports and use the /dev/serial/by-id/ name", path)
	}
	if err != nil {
		return "", fmt.Errorf("%s: %v", path, err)
	}
	if fi.Mode()&fs.ModeCharDevice == 0 {
		return "", fmt.Errorf("%s is not a serial device (not a character device); run `kioskctl ports` to list the serial ports", path)
	}
	if err := syscall.Access(path, 0x2|0x4); err != nil { // W_OK|R_OK
		return "", fmt.Errorf("%s cannot be opened for reading and writing by this user (%v); the kiosk user must be in group dialout", path, err)
	}
	desc := "exists and is readable and writable"
	if target, err := filepath.EvalSymlinks(path); err == nil && target != path {
		desc += " (" + target + ")"
	}
	return desc, nil
}

// TransformWarning is what Check says of a card transform that uses mid.
const TransformWarning = "warning: [card_reader] transform uses mid(X,Y), which now means what it means in MyQ: " +
	"remove X characters from the left and Y from the right (mid(2,2) turns 123456 into 34); it used to mean start and length. " +
	"Try the chain on a card with: kioskctl transform CHAIN CARDNUMBER"

// validateTransform checks a card transform chain with the parser the
// reader runs (devices/card), so check-config and the daemon agree on what
// is valid.
func validateTransform(chain string) error {
	if len(chain) > 256 {
		return fmt.Errorf("is longer than 256 characters")
	}
	_, err := card.ParseChain(chain)
	return err
}
