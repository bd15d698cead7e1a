package journal

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"syscall"
)

// File is an open journal file: written at its end, made durable by Sync.
type File interface {
	Write(p []byte) (int, error)
	Sync() error
	Close() error
}

// FS is the narrow file interface the journal writes through, so the same
// code runs on real disks and on a strict in-memory model of power cuts.
//
// Durability rules (the strict model enforces them, real disks need them):
// file data is durable once File.Sync returns; a created, renamed or removed
// name is durable once SyncDir of its directory returns.
type FS interface {
	// OpenAppend opens name for appending, creating it (mode 0600) if missing.
	OpenAppend(name string) (File, error)
	// Create creates or truncates name (mode 0600) for writing.
	Create(name string) (File, error)
	// ReadFile reads the whole file; it never writes.
	ReadFile(name string) ([]byte, error)
	Rename(oldname, newname string) error
	Remove(name string) error
	// Truncate cuts name to size. The cut is durable after a Sync of a
	// handle on the file.
	Truncate(name string, size int64) error
	MkdirAll(dir string) error
	// SyncDir makes the names in dir (creates, renames, removes) durable.
	SyncDir(dir string) error
}

// OSFS is the real file system: files mode 0600, directories 0700, and
// directory fsync through open+Sync.
func OSFS() FS { return osFS{} }

type osFS struct{}

func (osFS) OpenAppend(name string) (File, error) {
	return os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_APPEND|syscall.O_NOFOLLOW, 0o600)
}

func (osFS) Create(name string) (File, error) {
	return os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|syscall.O_NOFOLLOW, 0o600)
}

func (osFS) ReadFile(name string) ([]byte, error)   { return os.ReadFile(name) }
func (osFS) Rename(oldname, newname string) error   { return os.Rename(oldname, newname) }
func (osFS) Remove(name string) error               { return os.Remove(name) }
func (osFS) Truncate(name string, size int64) error { return os.Truncate(name, size) }
func (osFS) MkdirAll(dir string) error              { return os.MkdirAll(dir, 0o700) }

func (osFS) SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	if err := d.Sync(); err != nil {
		d.Close()
		return fmt.Errorf("fsync dir %s: %w", dir, err)
	}
	return d.Close()
}

// ErrPowerLost is returned by every MemFS operation after a power cut
// injected with CrashAfter, until Crash "reboots" the FS. Handles opened
// before a Crash keep failing with it: the process that held them is gone.
var ErrPowerLost = errors.New("memfs: power lost")

// MemFS is a strict in-memory FS for tests: per file it keeps what was
// written and what was fsynced, and per directory which names were made
// durable by SyncDir. Crash forgets everything that was not durable, the way
// a power cut does (and the way Pebble's vfs.NewStrictMem models it). A
// SIGKILL, which keeps the page cache, is simply reopening without Crash.
type MemFS struct {
	mu       sync.Mutex
	dirs     map[string]bool
	files    map[string]*memInode // the names as a running process sees them
	durable  map[string]*memInode // the names that survive a power cut
	writeErr error
	ops      int
	crashAt  int // power is lost right after op number crashAt; 0: never
	dead     bool
	gen      int // bumped by Crash: older handles are stale
}

type memInode struct {
	data   []byte // written, in the page cache
	synced []byte // on the platter
}

var _ FS = (*MemFS)(nil)

// NewStrictMemFS returns an empty strict in-memory FS.
func NewStrictMemFS() *MemFS {
	return &MemFS{dirs: map[string]bool{"/": true, ".": true}, files: map[string]*memInode{}, durable: map[string]*memInode{}}
}

// SetWriteError makes every later mutating operation (write, sync, create,
// rename, remove, truncate, dir sync) fail with err, like a full or
// read-only disk; nil heals it.
func (m *MemFS) SetWriteError(err error) {
	m.mu.Lock()
	m.writeErr = err
	m.mu.Unlock()
}

// Ops is the number of mutating operations done so far.
func (m *MemFS) Ops() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.ops
}

// CrashAfter cuts the power right after the n-th mutating operation from
// now (n >= 1): that operation takes effect, and every later operation fails
// with ErrPowerLost. Call Crash to reboot.
func (m *MemFS) CrashAfter(n int) {
	m.mu.Lock()
	m.crashAt = m.ops + n
	m.mu.Unlock()
}

// Crash simulates a power cut and reboot: every file returns to its last
// fsynced content, every name to its last SyncDir'ed state, and handles
// opened before fail. The FS is usable again afterwards.
func (m *MemFS) Crash() {
	m.mu.Lock()
	defer m.mu.Unlock()
	files := make(map[string]*memInode, len(m.durable))
	seen := map[*memInode]*memInode{}
	for name, ino := range m.durable {
		n, ok := seen[ino]
		if !ok {
			n = &memInode{data: clone(ino.synced), synced: clone(ino.synced)}
			seen[ino] = n
		}
		files[name] = n
	}
	m.files = files
	m.durable = make(map[string]*memInode, len(files))
	for k, v := range files {
		m.durable[k] = v
	}
	m.dead = false
	m.crashAt = 0
	m.gen++
}

// Durable returns what a power cut now would leave of name (nil, false if
// the name would be gone).
func (m *MemFS) Durable(name string) ([]byte, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ino, ok := m.durable[filepath.Clean(name)]
	if !ok {
		return nil, false
	}
	return clone(ino.synced), true
}

// WriteFile puts data in name as if written and fsynced, name included:
// test setup, not a journal operation.
func (m *MemFS) WriteFile(name string, data []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	name = filepath.Clean(name)
	m.dirs[filepath.Dir(name)] = true
	ino := &memInode{data: clone(data), synced: clone(data)}
	m.files[name] = ino
	m.durable[name] = ino
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }

// begin checks that a mutating operation may run now.
func (m *MemFS) begin() error {
	if m.dead {
		return ErrPowerLost
	}
	if m.writeErr != nil {
		return m.writeErr
	}
	return nil
}

// done counts a completed mutating operation and cuts the power if due.
func (m *MemFS) done() {
	m.ops++
	if m.crashAt > 0 && m.ops >= m.crashAt {
		m.dead = true
	}
}

func pathErr(op, name string, err error) error { return &fs.PathError{Op: op, Path: name, Err: err} }

func (m *MemFS) open(name string, trunc bool) (File, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	name = filepath.Clean(name)
	if err := m.begin(); err != nil {
		return nil, pathErr("open", name, err)
	}
	if !m.dirs[filepath.Dir(name)] {
		return nil, pathErr("open", name, fs.ErrNotExist)
	}
	ino, ok := m.files[name]
	if !ok {
		ino = &memInode{}
		m.files[name] = ino
	} else if trunc {
		ino.data = nil
	}
	m.done()
	return &memFile{fs: m, ino: ino, name: name, gen: m.gen}, nil
}

func (m *MemFS) OpenAppend(name string) (File, error) { return m.open(name, false) }
func (m *MemFS) Create(name string) (File, error)     { return m.open(name, true) }

func (m *MemFS) ReadFile(name string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	name = filepath.Clean(name)
	if m.dead {
		return nil, pathErr("read", name, ErrPowerLost)
	}
	ino, ok := m.files[name]
	if !ok {
		return nil, pathErr("read", name, fs.ErrNotExist)
	}
	return clone(ino.data), nil
}

func (m *MemFS) Rename(oldname, newname string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	oldname, newname = filepath.Clean(oldname), filepath.Clean(newname)
	if err := m.begin(); err != nil {
		return pathErr("rename", oldname, err)
	}
	ino, ok := m.files[oldname]
	if !ok {
		return pathErr("rename", oldname, fs.ErrNotExist)
	}
	if !m.dirs[filepath.Dir(newname)] {
		return pathErr("rename", newname, fs.ErrNotExist)
	}
	delete(m.files, oldname)
	m.files[newname] = ino
	m.done()
	return nil
}

func (m *MemFS) Remove(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	name = filepath.Clean(name)
	if err := m.begin(); err != nil {
		return pathErr("remove", name, err)
	}
	if _, ok := m.files[name]; !ok {
		return pathErr("remove", name, fs.ErrNotExist)
	}
	delete(m.files, name)
	m.done()
	return nil
}

func (m *MemFS) Truncate(name string, size int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	name = filepath.Clean(name)
	if err := m.begin(); err != nil {
		return pathErr("truncate", name, err)
	}
	ino, ok := m.files[name]
	if !ok {
		return pathErr("truncate", name, fs.ErrNotExist)
	}
	if size < 0 {
		return pathErr("truncate", name, fs.ErrInvalid)
	}
	if size <= int64(len(ino.data)) {
		ino.data = clone(ino.data[:size])
	} else {
		ino.data = append(ino.data, make([]byte, size-int64(len(ino.data)))...)
	}
	m.done()
	return nil
}

// MkdirAll creates dir and its parents. Directories themselves are modelled
// as always durable: the journal's state directory exists before it runs.
func (m *MemFS) MkdirAll(dir string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.dead {
		return pathErr("mkdir", dir, ErrPowerLost)
	}
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		m.dirs[d] = true
		if d == filepath.Dir(d) {
			break
		}
	}
	return nil
}

func (m *MemFS) SyncDir(dir string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	dir = filepath.Clean(dir)
	if err := m.begin(); err != nil {
		return pathErr("syncdir", dir, err)
	}
	for name := range m.durable {
		if filepath.Dir(name) == dir {
			if _, ok := m.files[name]; !ok {
				delete(m.durable, name)
			}
		}
	}
	for name, ino := range m.files {
		if filepath.Dir(name) == dir {
			m.durable[name] = ino
		}
	}
	m.done()
	return nil
}

// Names lists the current names, for tests.
func (m *MemFS) Names() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for n := range m.files {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

type memFile struct {
	fs     *MemFS
	ino    *memInode
	name   string
	gen    int
	closed bool
}

func (f *memFile) check(op string) error {
	if f.closed {
		return pathErr(op, f.name, fs.ErrClosed)
	}
	if f.gen != f.fs.gen {
		return pathErr(op, f.name, ErrPowerLost)
	}
	if err := f.fs.begin(); err != nil {
		return pathErr(op, f.name, err)
	}
	return nil
}

func (f *memFile) Write(p []byte) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.check("write"); err != nil {
		return 0, err
	}
	f.ino.data = append(f.ino.data, p...)
	f.fs.done()
	return len(p), nil
}

func (f *memFile) Sync() error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.check("sync"); err != nil {
		return err
	}
	f.ino.synced = clone(f.ino.data)
	f.fs.done()
	return nil
}

func (f *memFile) Close() error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.closed {
		return pathErr("close", f.name, fs.ErrClosed)
	}
	f.closed = true
	return nil
}

func readDir(dir string) ([]string, error) {
	es, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(es))
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out, nil
}
