package main

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// Under systemd (JOURNAL_STREAM names stderr) kioskd's lines carry their
// priority, so `journalctl -p warning` can filter them; elsewhere they do not.
func TestLoggerPrefixesPriorityUnderJournal(t *testing.T) {
	for _, journal := range []bool{true, false} {
		path := filepath.Join(t.TempDir(), "stderr")
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		var st syscall.Stat_t
		if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
			t.Fatal(err)
		}
		if journal {
			t.Setenv("JOURNAL_STREAM", fmt.Sprintf("%d:%d", st.Dev, st.Ino))
		} else {
			t.Setenv("JOURNAL_STREAM", "")
		}
		log, done, err := newLogger(f, slog.LevelInfo, t.TempDir(), false)
		if err != nil {
			t.Fatal(err)
		}
		log.Warn("MyQ unreachable")
		done()
		f.Close()
		b, _ := os.ReadFile(path)
		if got := strings.HasPrefix(string(b), "<4>level=WARN"); got != journal {
			t.Errorf("JOURNAL_STREAM set=%v: line %q", journal, b)
		}
	}
}
