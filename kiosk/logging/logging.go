// Package logging owns how kioskd's log lines reach systemd's journal: each
// line starts with its syslog priority in the sd-daemon form ("<3>" for an
// error, "<4>" a warning, "<6>" info, "<7>" debug), so journald files it at
// that priority and `journalctl -u kioskd -p warning` shows only what
// matters. Outside the journal the lines stay plain.
package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"syscall"
)

// Priority is a syslog priority as sd-daemon(3) prefixes it.
type Priority int

// The priorities a slog level maps to (syslog(3) numbering).
const (
	PriErr     Priority = 3
	PriWarning Priority = 4
	PriInfo    Priority = 6
	PriDebug   Priority = 7
)

func (p Priority) String() string {
	switch p {
	case PriErr:
		return "err"
	case PriWarning:
		return "warning"
	case PriInfo:
		return "info"
	case PriDebug:
		return "debug"
	}
	return fmt.Sprintf("Priority(%d)", int(p))
}

// PriorityOf maps a slog level to the syslog priority journald files it at;
// levels between the named ones take the lower neighbour's priority.
func PriorityOf(l slog.Level) Priority {
	switch {
	case l >= slog.LevelError:
		return PriErr
	case l >= slog.LevelWarn:
		return PriWarning
	case l >= slog.LevelInfo:
		return PriInfo
	}
	return PriDebug
}

// ToJournal reports whether f is the stream systemd connected to the
// journal: JOURNAL_STREAM (from getenv) names its device and inode. Checking
// the inode, as sd-daemon(3) advises, keeps the prefixes out of a pipe or
// file that merely inherited the variable.
func ToJournal(getenv func(string) string, f *os.File) bool {
	v := getenv("JOURNAL_STREAM")
	if v == "" || f == nil {
		return false
	}
	var dev, ino uint64
	if n, err := fmt.Sscanf(v, "%d:%d", &dev, &ino); n != 2 || err != nil {
		return false
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		return false
	}
	return uint64(st.Dev) == dev && uint64(st.Ino) == ino
}

// NewJournalHandler returns a text handler writing to w whose every line
// starts with its priority prefix. journald stamps each line itself, so the
// handler leaves out slog's time.
func NewJournalHandler(w io.Writer, opts *slog.HandlerOptions) slog.Handler {
	o := slog.HandlerOptions{}
	if opts != nil {
		o = *opts
	}
	next := o.ReplaceAttr
	o.ReplaceAttr = func(groups []string, a slog.Attr) slog.Attr {
		if len(groups) == 0 && a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		if next != nil {
			return next(groups, a)
		}
		return a
	}
	pw := &prefixWriter{w: w}
	return &journalHandler{pw: pw, inner: slog.NewTextHandler(pw, &o)}
}

// prefixWriter writes the prefix of the record being handled before the
// line the text handler writes for it (one Write per record).
type prefixWriter struct {
	mu     sync.Mutex // held across a whole Handle
	w      io.Writer
	prefix []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	line := make([]byte, 0, len(p.prefix)+len(b))
	line = append(append(line, p.prefix...), b...)
	if _, err := p.w.Write(line); err != nil {
		return 0, err
	}
	return len(b), nil
}

type journalHandler struct {
	pw    *prefixWriter
	inner slog.Handler
}

func (h *journalHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.inner.Enabled(ctx, l)
}

func (h *journalHandler) Handle(ctx context.Context, r slog.Record) error {
	h.pw.mu.Lock()
	defer h.pw.mu.Unlock()
	h.pw.prefix = fmt.Appendf(h.pw.prefix[:0], "<%d>", PriorityOf(r.Level))
	return h.inner.Handle(ctx, r)
}

func (h *journalHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &journalHandler{pw: h.pw, inner: h.inner.WithAttrs(as)}
}

func (h *journalHandler) WithGroup(name string) slog.Handler {
	return &journalHandler{pw: h.pw, inner: h.inner.WithGroup(name)}
}
