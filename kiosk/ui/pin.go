package ui

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/printroom/voucherkiosk/kiosk/statedir"
)

// PIN hashes are "pbkdf2-sha256:<iterations>:<salt hex>:<hash hex>": a slow
// salted hash from the standard library, so a copied PIN file does not give
// the PIN away at a glance.
const (
	pinScheme     = "pbkdf2-sha256"
	pinIterations = 100_000
	pinSaltLen    = 16
	pinHashLen    = 32
	minPINDigits  = 6 // 10^6 PINs: with the lockout, years of guessing
	maxPINDigits  = 12
)

// HashPIN returns the stored form of a technician PIN.
func HashPIN(pin string) string {
	salt := make([]byte, pinSaltLen)
	rand.Read(salt) // never fails (crypto/rand crashes the program instead)
	return hashPIN(pin, salt, pinIterations)
}

func hashPIN(pin string, salt []byte, iter int) string {
	h, err := pbkdf2.Key(sha256.New, pin, salt, iter, pinHashLen)
	if err != nil {
		// Only possible with parameters we never pass (FIPS limits).
		panic("ui: pbkdf2: " + err.Error())
	}
	return fmt.Sprintf("%s:%d:%s:%s", pinScheme, iter, hex.EncodeToString(salt), hex.EncodeToString(h))
}

// CheckPIN reports whether pin matches a stored hash. A malformed hash is an
// error, not a mismatch, so the technician learns the file is broken.
func CheckPIN(stored, pin string) (bool, error) {
	parts := strings.Split(strings.TrimSpace(stored), ":")
	if len(parts) != 4 || parts[0] != pinScheme {
		return false, fmt.Errorf("ui: pin hash: want %s:<iterations>:<salt hex>:<hash hex>", pinScheme)
	}
	iter, err := strconv.Atoi(parts[1])
	if err != nil || iter < 1000 || iter > 1_000_000 {
		return false, fmt.Errorf("ui: pin hash: iterations %q out of range", parts[1])
	}
	salt, err := hex.DecodeString(parts[2])
	if err != nil || len(salt) < 8 {
		return false, errors.New("ui: pin hash: bad salt")
	}
	want, err := hex.DecodeString(parts[3])
	if err != nil || len(want) != pinHashLen {
		return false, errors.New("ui: pin hash: bad hash")
	}
	got, err := pbkdf2.Key(sha256.New, pin, salt, iter, pinHashLen)
	if err != nil {
		return false, fmt.Errorf("ui: pin hash: %w", err)
	}
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// ValidPIN checks a new PIN: 6 to 12 digits.
func ValidPIN(pin string) error {
	if len(pin) < minPINDigits || len(pin) > maxPINDigits {
		return fmt.Errorf("ui: pin: want %d to %d digits", minPINDigits, maxPINDigits)
	}
	for _, c := range pin {
		if c < '0' || c > '9' {
			return errors.New("ui: pin: digits only (the kiosk keypad may have nothing else)")
		}
	}
	return nil
}

// WritePINFile stores the hash of pin at path (mode 0600, parent 0700),
// replacing any old file atomically.
func WritePINFile(path, pin string) error {
	if err := ValidPIN(pin); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("ui: write pin file: %w", err)
	}
	// A new file (mode 0600) renamed over the old one: never written
	// through a link planted at path.
	if err := statedir.WriteFile(path, []byte(HashPIN(pin)+"\n")); err != nil {
		return fmt.Errorf("ui: pin file: %w", err)
	}
	return nil
}

// ReadPINFile reads a stored hash, refusing a file group or others may access.
func ReadPINFile(path string) (string, error) {
	f, err := statedir.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return "", fmt.Errorf("ui: pin file: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("ui: pin file: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("ui: pin file %s has mode %04o: refusing (chmod 600)", path, st.Mode().Perm())
	}
	b, err := io.ReadAll(io.LimitReader(f, 4096))
	if err != nil {
		return "", fmt.Errorf("ui: pin file %s: %w", path, err)
	}
	if strings.TrimSpace(string(b)) == "" {
		// The package installs it empty so the unit's LoadCredential= has
		// a file to load: the menu stays locked until a PIN is set.
		return "", fmt.Errorf("ui: pin file %s is empty: set a PIN with kioskctl set-pin, then restart kioskd", path)
	}
	return strings.TrimSpace(string(b)), nil
}
