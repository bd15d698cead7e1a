package config

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// Secrets live in files only root may read. Under systemd the service runs
// as the unprivileged kiosk user and gets them through LoadCredential=: the
// file then appears in $CREDENTIALS_DIRECTORY under the credential's name.
// The kiosk looks there first, by the base name of the configured file
// (client_secret_file = "/etc/kioskd/myq-client-secret" →
// $CREDENTIALS_DIRECTORY/myq-client-secret), so one config works both under
// systemd and when a technician runs the daemon by hand as root.

// ResolveSecretFile returns where a secret configured as path really is: the
// systemd credential of the same base name when $CREDENTIALS_DIRECTORY has
// one, else path itself. fromCredential says which.
func ResolveSecretFile(path string, getenv func(string) string) (resolved string, fromCredential bool) {
	if getenv == nil {
		getenv = os.Getenv
	}
	if path == "" {
		return "", false
	}
	if dir := getenv("CREDENTIALS_DIRECTORY"); dir != "" {
		cand := filepath.Join(dir, filepath.Base(path))
		if _, err := os.Stat(cand); err == nil {
			return cand, true
		}
	}
	return path, false
}

// ReadSecretFile reads a secret, refusing a file that group or others may
// read (the message names the chmod that fixes it), and trims one trailing
// newline (echo adds one). Credentials from $CREDENTIALS_DIRECTORY are
// protected by systemd (a directory only the service user may enter), so
// their mode is not judged.
func ReadSecretFile(path string, fromCredential bool) (Secret, error) {
	fi, err := os.Stat(path)
	if os.IsNotExist(err) {
		return "", fmt.Errorf("%s does not exist; create it, readable only by the kiosk user, with the secret on one line: "+
			"sudo install -m 0600 -o kiosk -g kiosk /dev/null %s && sudoedit %s", path, path, path)
	}
	if err != nil {
		return "", fmt.Errorf("cannot read secret file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("%s is not a regular file", path)
	}
	if !fromCredential && fi.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("%s is readable by group or others (mode %04o); fix it with: chmod 600 %s", path, fi.Mode().Perm(), path)
	}
	if fi.Size() > 64<<10 {
		return "", fmt.Errorf("%s is %d bytes; a secret file holds one line", path, fi.Size())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("cannot read secret file: %w", err)
	}
	s := strings.TrimSuffix(string(b), "\n")
	s = strings.TrimSuffix(s, "\r")
	if strings.TrimSpace(s) == "" {
		return "", fmt.Errorf("%s is empty", path)
	}
	return Secret(s), nil
}

// LoadSecrets fills the secrets a parsed config names: the MyQ client
// secret and eSSP key files; the technician PIN file is only resolved (the
// UI reads it). getenv nil means os.Getenv. It is what Load does after
// Parse; the demo, which has no secret files, skips it.
func (c *Config) LoadSecrets(getenv func(string) string) error {
	return c.loadSecrets(getenv).Err()
}

func (c *Config) loadSecrets(getenv func(string) string) Problems {
	var ps Problems
	if c.MyQ.ClientSecretFile != "" {
		path, cred := ResolveSecretFile(c.MyQ.ClientSecretFile, getenv)
		s, err := ReadSecretFile(path, cred)
		if err != nil {
			ps = append(ps, c.problem("myq.client_secret_file", err.Error()))
		} else {
			c.MyQ.ClientSecret = s
		}
	}
	if c.Kiosk.TechnicianPINFile != "" {
		c.Kiosk.TechnicianPINFile, _ = ResolveSecretFile(c.Kiosk.TechnicianPINFile, getenv)
	}
	for i := range c.Acceptors {
		a := &c.Acceptors[i]
		if a.KeyFile == "" {
			continue
		}
		key := fmt.Sprintf("acceptor[%d].key_file", i+1)
		path, cred := ResolveSecretFile(a.KeyFile, getenv)
		s, err := ReadSecretFile(path, cred)
		switch {
		case err != nil:
			ps = append(ps, c.problem(key, err.Error()))
		case !hexKeyRe.MatchString(strings.TrimSpace(string(s))):
			ps = append(ps, c.problem(key, path+" does not hold 16 hexadecimal digits (the eSSP fixed key, e.g. 0123456701234567)"))
		default:
			a.FixedKey = Secret(strings.TrimSpace(string(s)))
		}
	}
	return ps
}

// A Secret redacts itself in every encoder a struct holding it may reach,
// not only fmt: JSON (a config dumped for support), text marshalling (TOML,
// XML, map keys) and slog, whose JSON handler would otherwise print the raw
// string. Reveal is the one way out.
const redacted = "[redacted]"

func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }
func (Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }
func (Secret) LogValue() slog.Value         { return slog.StringValue(redacted) }

// Format covers every fmt verb, %d and %x included.
func (Secret) Format(f fmt.State, _ rune) { io.WriteString(f, redacted) }
