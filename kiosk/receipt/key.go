package receipt

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/printroom/voucherkiosk/kiosk/statedir"
)

// KeySize is the length of a key LoadOrCreateKey generates.
const KeySize = 32

// minKeySize refuses keys too short to be secret (an empty or truncated file).
const minKeySize = 16

// maxKeySize refuses a file that is plainly not a key (a path mix-up).
const maxKeySize = 1024

// LoadOrCreateKey reads the receipt key at path, or creates one of KeySize
// random bytes (mode 0600, parent directories 0700) when the file does not
// exist. An existing key that group or others may read is refused: anyone
// who can read it can forge receipts.
func LoadOrCreateKey(path string) ([]byte, error) {
	key, err := LoadKey(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("receipt: create key dir: %w", err)
	}
	key = make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("receipt: generate key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return LoadKey(path) // someone else created it first: use theirs
	}
	if err != nil {
		return nil, fmt.Errorf("receipt: create key %s: %w", path, err)
	}
	_, werr := f.Write(key)
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		os.Remove(path) // a half-written key would sign codes nobody can check later
		return nil, fmt.Errorf("receipt: write key %s: %w", path, werr)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync() // best effort: the key survives a power cut
		d.Close()
	}
	return key, nil
}

// LoadKey reads an existing key, refusing one that group or others may read.
func LoadKey(path string) ([]byte, error) {
	f, err := statedir.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("receipt: open key: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("receipt: stat key %s: %w", path, err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("receipt: key %s is not a regular file", path)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("receipt: key %s has mode %04o: refusing a key that group or others can access (chmod 600)", path, st.Mode().Perm())
	}
	key, err := io.ReadAll(io.LimitReader(f, maxKeySize+1))
	if err != nil {
		return nil, fmt.Errorf("receipt: read key %s: %w", path, err)
	}
	if len(key) < minKeySize || len(key) > maxKeySize {
		return nil, fmt.Errorf("receipt: key %s has %d bytes, want %d to %d", path, len(key), minKeySize, maxKeySize)
	}
	return key, nil
}
