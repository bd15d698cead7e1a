package pinlock

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestLockoutAcrossRestarts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "technician-pin.lock")
	c := &clock{t: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)}
	l, err := Open(path, DefaultRule, c.now)
	if err != nil {
		t.Fatal(err)
	}
	// Three wrong, then a restart (a new Lock on the same file), two more.
	for range 3 {
		if w, err := l.Failed(); w != 0 || err != nil {
			t.Fatalf("early failure waits %v, %v", w, err)
		}
	}
	l, err = Open(path, DefaultRule, c.now)
	if err != nil || l.Left() != 2 {
		t.Fatalf("after restart: left %d, %v", l.Left(), err)
	}
	l.Failed()
	w, _ := l.Failed()
	if w != time.Minute || l.Wait() != time.Minute {
		t.Fatalf("fifth failure: wait %v / %v, want 1m", w, l.Wait())
	}
	c.t = c.t.Add(59 * time.Second)
	if l.Wait() != time.Second {
		t.Fatalf("wait after 59 s: %v", l.Wait())
	}
	// Each further failure doubles, up to an hour, and survives a restart.
	for _, want := range []time.Duration{2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 16 * time.Minute, 32 * time.Minute, time.Hour, time.Hour} {
		c.t = c.t.Add(l.Wait())
		l, _ = Open(path, DefaultRule, c.now)
		if got, _ := l.Failed(); got != want {
			t.Fatalf("wait %v, want %v", got, want)
		}
	}
	// A clock set back by a day does not lock out for a day.
	c.t = c.t.Add(-24 * time.Hour)
	if l.Wait() != time.Hour {
		t.Fatalf("wait after the clock went back: %v", l.Wait())
	}
	c.t = c.t.Add(25 * time.Hour)
	if err := l.Succeeded(); err != nil || l.Wait() != 0 || l.Left() != 5 {
		t.Fatalf("after a right PIN: wait %v left %d %v", l.Wait(), l.Left(), err)
	}
	if l, _ = Open(path, DefaultRule, c.now); l.Left() != 5 {
		t.Fatal("the success was not kept")
	}
}

// TestBrokenFileStartsLocked: a corrupt lock file, or a link planted in its
// place, starts with a wait rather than fresh tries.
func TestBrokenFileStartsLocked(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "technician-pin.lock")
	os.WriteFile(path, []byte("{garbage"), 0o600)
	c := &clock{t: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)}
	l, err := Open(path, DefaultRule, c.now)
	if err == nil || l == nil || l.Wait() != time.Minute {
		t.Fatalf("corrupt file: lock %v wait %v err %v", l, l.Wait(), err)
	}
	// A link planted in its place is not followed.
	victim := filepath.Join(dir, "victim")
	os.WriteFile(victim, []byte("precious"), 0o600)
	link := filepath.Join(dir, "linked.lock")
	os.Symlink(victim, link)
	l, _ = Open(link, DefaultRule, c.now)
	if l == nil || l.Wait() == 0 {
		t.Fatal("a link gave fresh tries")
	}
	l.Failed()
	if b, _ := os.ReadFile(victim); string(b) != "precious" {
		t.Fatalf("victim = %q", b)
	}
}
