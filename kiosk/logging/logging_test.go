package logging

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
)

func TestLinesCarryTheirPriority(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(NewJournalHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	log.Debug("polling", "port", "/dev/ttyUSB0")
	log.Info("kioskd starting")
	log.Warn("MyQ unreachable", "err", "timeout")
	log.Error("journal append failed")
	log.With("device", "bill").WithGroup("ssp").Warn("jammed", "channel", 3)
	log.Log(nil, slog.LevelError+4, "beyond error")
	log.Info("two\nlines")

	want := []string{
		`<7>level=DEBUG msg=polling port=/dev/ttyUSB0`,
		`<6>level=INFO msg="kioskd starting"`,
		`<4>level=WARN msg="MyQ unreachable" err=timeout`,
		`<3>level=ERROR msg="journal append failed"`,
		`<4>level=WARN msg=jammed device=bill ssp.channel=3`,
		`<3>level=ERROR+4 msg="beyond error"`,
		`<6>level=INFO msg="two\nlines"`,
	}
	got := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("journal lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestLevelFilterStillApplies(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(NewJournalHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn}))
	log.Info("chatty")
	log.Warn("kept")
	if buf.String() != "<4>level=WARN msg=kept\n" {
		t.Fatalf("got %q", buf.String())
	}
}

// Lines logged at once from many goroutines each keep their own prefix.
func TestConcurrentLinesKeepTheirPrefix(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(NewJournalHandler(&buf, nil))
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			l := log.With("g", i)
			for range 50 {
				if i%2 == 0 {
					l.Warn("w")
				} else {
					l.Error("e")
				}
			}
		})
	}
	wg.Wait()
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if !(strings.HasPrefix(line, "<4>level=WARN") || strings.HasPrefix(line, "<3>level=ERROR")) {
			t.Fatalf("line %q has the wrong prefix", line)
		}
	}
}

func TestToJournalChecksTheInode(t *testing.T) {
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "stream"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	other, err := os.Create(filepath.Join(dir, "other"))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == "JOURNAL_STREAM" {
				return v
			}
			return ""
		}
	}
	match := fmt.Sprintf("%d:%d", st.Dev, st.Ino)
	for _, c := range []struct {
		name string
		env  string
		f    *os.File
		want bool
	}{
		{"the journal's stream", match, f, true},
		{"not under systemd", "", f, false},
		{"inherited by a pipe or file", match, other, false},
		{"garbage", "journal", f, false},
	} {
		if got := ToJournal(env(c.env), c.f); got != c.want {
			t.Errorf("%s: ToJournal = %v, want %v", c.name, got, c.want)
		}
	}
}
