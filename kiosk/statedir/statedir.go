// Package statedir owns the rules for the kiosk's state directory and the
// files in it: the directory must belong to the user kioskd runs as and be
// closed to others, files are opened without following symbolic links, and
// kioskd does not run as root unless told to.
//
// The state directory holds money (the journal) and secrets (the receipt
// key, the PIN lockout): a link planted there must not make the daemon
// append to, or create, a file somewhere else.
package statedir

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
)

// Check refuses a state directory that is a symbolic link, is not a
// directory, is not owned by the running user, or that group or others may
// read, write or enter.
func Check(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("state directory: %w", err)
	}
	if fi.Mode()&os.ModeSymlink != 0 {
		return fmt.Errorf("state directory %s is a symbolic link: give the real directory", dir)
	}
	if !fi.IsDir() {
		return fmt.Errorf("state directory %s is not a directory", dir)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("state directory %s belongs to uid %d, not to uid %d that kioskd runs as: fix it with chown", dir, st.Uid, os.Geteuid())
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("state directory %s has mode %04o: group and others must have no access (it holds the journal and keys); fix it with: chmod 700 %s", dir, perm, dir)
	}
	return nil
}

// OpenFile is os.OpenFile that refuses to follow a symbolic link at name.
func OpenFile(name string, flag int, perm os.FileMode) (*os.File, error) {
	f, err := os.OpenFile(name, flag|syscall.O_NOFOLLOW, perm)
	if errors.Is(err, syscall.ELOOP) {
		return nil, fmt.Errorf("open %s: it is a symbolic link; refusing to follow it", name)
	}
	return f, err
}

// ReadFile reads a whole file of at most limit bytes without following a
// symbolic link.
func ReadFile(name string, limit int64) ([]byte, error) {
	f, err := OpenFile(name, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("read %s: larger than %d bytes", name, limit)
	}
	return b, nil
}

// WriteFile replaces name with data atomically (a new file, fsynced, renamed
// over the old one: rename replaces a link, never writes through it).
func WriteFile(name string, data []byte) error {
	dir := filepath.Dir(name)
	f, err := os.CreateTemp(dir, "."+filepath.Base(name)+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, name)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", name, err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// CheckUser refuses to run as root: a daemon reading serial lines and a
// network API has no need of it, and a root-owned file in the state
// directory would lock the real service user out. The demo (a temporary
// directory, nothing real) and --allow-root are the exceptions.
func CheckUser(euid int, demo, allowRoot bool) error {
	if euid == 0 && !demo && !allowRoot {
		return errors.New("refusing to run as root: run as the kiosk user (systemd does: User=kiosk), or pass --allow-root if you really mean it")
	}
	return nil
}
