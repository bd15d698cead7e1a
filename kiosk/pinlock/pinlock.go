// Package pinlock owns the technician PIN's lockout: after Free wrong PINs
// in a row every PIN is refused for First, each further wrong PIN doubles the
// wait up to Max, and a right PIN clears the count. The count survives
// closing the menu and restarting the daemon: it is kept in a small file in
// the state directory.
//
// The rule (Rule, Record) is pure and takes the time as an argument; Lock
// adds the clock, the file and a mutex. The screen only renders what Lock
// says.
package pinlock

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"sync"
	"time"

	"github.com/printroom/voucherkiosk/kiosk/statedir"
)

// Rule is the lockout policy.
type Rule struct {
	Free  int           // wrong PINs in a row before the first wait
	First time.Duration // the first wait
	Max   time.Duration // the longest wait
}

// DefaultRule: 5 free tries, then 60 s, 2 min, 4 min ... up to 1 h. A
// four-digit PIN then takes weeks to guess, a six-digit one years.
var DefaultRule = Rule{Free: 5, First: time.Minute, Max: time.Hour}

// Record is what is kept between runs.
type Record struct {
	Failures int       `json:"failures"`       // wrong PINs in a row
	Until    time.Time `json:"until,omitzero"` // no PIN is checked before this
}

// Wait is how long rec still refuses PINs at now. A wait longer than Max
// (the clock was set back) counts as Max, so a wrong clock cannot lock the
// technician out for longer than the rule allows.
func (r Rule) Wait(rec Record, now time.Time) time.Duration {
	w := rec.Until.Sub(now)
	if w <= 0 {
		return 0
	}
	return min(w, r.Max)
}

// Fail is rec after a wrong PIN at now.
func (r Rule) Fail(rec Record, now time.Time) Record {
	rec.Failures++
	if over := rec.Failures - r.Free; over >= 0 {
		wait := r.Max
		if over < 30 && r.First<<over < r.Max && r.First<<over > 0 {
			wait = r.First << over
		}
		rec.Until = now.Add(wait)
	}
	return rec
}

// Left is how many wrong PINs are still free (0 once waits have begun).
func (r Rule) Left(rec Record) int { return max(r.Free-rec.Failures, 0) }

// Lock is the lockout of one kiosk, kept in a file.
type Lock struct {
	rule Rule
	path string
	now  func() time.Time

	mu  sync.Mutex
	rec Record
}

// maxFile bounds what is read from the lock file.
const maxFile = 4096

// Open loads the lockout kept at path (missing: no failures). A file that
// cannot be read or parsed counts as Free failures: a broken lock file must
// not hand out fresh tries, so it starts with a wait.
func Open(path string, rule Rule, now func() time.Time) (*Lock, error) {
	if now == nil {
		now = time.Now
	}
	l := &Lock{rule: rule, path: path, now: now}
	b, err := statedir.ReadFile(path, maxFile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return l, nil
	case err == nil && json.Unmarshal(b, &l.rec) == nil && l.rec.Failures >= 0:
		return l, nil
	}
	l.rec = rule.Fail(Record{Failures: rule.Free - 1}, now())
	if werr := l.save(); werr != nil {
		return nil, fmt.Errorf("pin lockout: %s unreadable (%v) and cannot be replaced: %w", path, err, werr)
	}
	return l, fmt.Errorf("pin lockout: %s was unreadable (%v): started over with a wait", path, err)
}

// Wait is how long PINs are still refused.
func (l *Lock) Wait() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rule.Wait(l.rec, l.now())
}

// Left is how many wrong PINs remain before the waits begin.
func (l *Lock) Left() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rule.Left(l.rec)
}

// Failed records a wrong PIN and returns the wait it starts (0: none). The
// failure counts even when the file cannot be written; the error says so.
func (l *Lock) Failed() (time.Duration, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.rec = l.rule.Fail(l.rec, now)
	return l.rule.Wait(l.rec, now), l.save()
}

// Succeeded clears the count after a right PIN.
func (l *Lock) Succeeded() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.rec == (Record{}) {
		return nil
	}
	l.rec = Record{}
	return l.save()
}

func (l *Lock) save() error {
	b, err := json.Marshal(l.rec)
	if err != nil {
		return err
	}
	if err := statedir.WriteFile(l.path, append(b, '\n')); err != nil {
		return fmt.Errorf("pin lockout: %w", err)
	}
	return nil
}
