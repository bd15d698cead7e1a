package journal

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// DamagePrefix starts the name of a file holding journal bytes that replay
// cut: "journal-damaged-<byte offset>". Acknowledged ones get
// AckedSuffix; their bytes are kept.
const (
	DamagePrefix = FileName + "-damaged-"
	AckedSuffix  = ".acknowledged"
)

// Damage is a file of cut journal bytes a technician has not acknowledged.
// While any exists the kiosk shows a persistent alert (status, technician
// menu, /metrics, cash-up).
type Damage struct {
	Name   string `json:"name"`   // in the state directory
	Offset int64  `json:"offset"` // where the bytes stood in the journal
	Size   int64  `json:"size"`
	// Torn: a write cut short (no newline, or only zero bytes after the
	// last one) rather than a complete line whose checksum fails. Known
	// only to the process that cut it; false for files found at start.
	Torn bool `json:"torn,omitempty"`
}

// lister is the optional FS method that lists a directory's names.
type lister interface {
	List(dir string) ([]string, error)
}

// List lists the names in dir.
func (osFS) List(dir string) ([]string, error) {
	es, err := readDir(dir)
	if err != nil {
		return nil, err
	}
	return es, nil
}

// List lists the current names in dir.
func (m *MemFS) List(dir string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	dir = filepath.Clean(dir)
	var out []string
	for n := range m.files {
		if filepath.Dir(n) == dir {
			out = append(out, filepath.Base(n))
		}
	}
	slices.Sort(out)
	return out, nil
}

// keepDamaged writes b to a new journal-damaged-<off> file and makes it
// durable (file and name) before anything is cut.
func (j *Journal) keepDamaged(off int64, b []byte) (string, error) {
	base := filepath.Join(j.dir, DamagePrefix+strconv.FormatInt(off, 10))
	name := base
	for i := 1; ; i++ {
		_, err := j.fs.ReadFile(name)
		if errors.Is(err, fs.ErrNotExist) {
			if _, err := j.fs.ReadFile(name + AckedSuffix); errors.Is(err, fs.ErrNotExist) {
				break
			}
		}
		name = fmt.Sprintf("%s.%d", base, i)
	}
	f, err := j.fs.Create(name)
	if err != nil {
		return "", fmt.Errorf("journal: keep %d cut bytes at offset %d: %w", len(b), off, err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return "", fmt.Errorf("journal: keep cut bytes in %s: %w", name, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return "", fmt.Errorf("journal: keep cut bytes in %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("journal: keep cut bytes in %s: %w", name, err)
	}
	if err := j.fs.SyncDir(j.dir); err != nil {
		return "", fmt.Errorf("journal: keep cut bytes in %s: %w", name, err)
	}
	return name, nil
}

// listDamage finds the unacknowledged damage files in the state directory.
func (j *Journal) listDamage() ([]Damage, error) {
	l, ok := j.fs.(lister)
	if !ok {
		return slices.Clone(j.cutNow), nil
	}
	names, err := l.List(j.dir)
	if err != nil {
		return nil, fmt.Errorf("journal: list %s for damage files: %w", j.dir, err)
	}
	var out []Damage
	for _, n := range names {
		if !strings.HasPrefix(n, DamagePrefix) || strings.HasSuffix(n, AckedSuffix) {
			continue
		}
		digits, _, _ := strings.Cut(strings.TrimPrefix(n, DamagePrefix), ".")
		off, err := strconv.ParseInt(digits, 10, 64)
		if err != nil {
			continue // not ours
		}
		d := Damage{Name: n, Offset: off}
		if b, err := j.fs.ReadFile(filepath.Join(j.dir, n)); err == nil {
			d.Size = int64(len(b))
		}
		if i := slices.IndexFunc(j.cutNow, func(c Damage) bool { return c.Name == n }); i >= 0 {
			d.Torn = j.cutNow[i].Torn
		}
		out = append(out, d)
	}
	return out, nil
}

// Damage lists the journal damage not yet acknowledged.
func (j *Journal) Damage() []Damage {
	j.mu.Lock()
	defer j.mu.Unlock()
	return slices.Clone(j.damage)
}

// AckDamage is the technician's acknowledgement: every damage file is
// renamed with AckedSuffix (its bytes stay) and the alert ends. It returns
// how many were acknowledged.
func (j *Journal) AckDamage() (int, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	n := 0
	for len(j.damage) > 0 {
		d := j.damage[0]
		p := filepath.Join(j.dir, d.Name)
		if err := j.fs.Rename(p, p+AckedSuffix); err != nil {
			return n, fmt.Errorf("journal: acknowledge %s: %w", d.Name, err)
		}
		j.damage = j.damage[1:]
		n++
	}
	if n > 0 {
		if err := j.fs.SyncDir(j.dir); err != nil {
			return n, fmt.Errorf("journal: acknowledge damage: sync %s: %w", j.dir, err)
		}
	}
	return n, nil
}
