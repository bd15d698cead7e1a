package devices

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

type stepClock struct{ t time.Time }

func (c *stepClock) now() time.Time { return c.t }

// A minute of noise writes one line, with counts; time comes from an
// injected clock, not sleeps.
func TestNoiseOneLinePerMinute(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	clk := &stepClock{t: time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)}
	n := NewNoise("card", log, clk.now)
	lines := func() int { return strings.Count(buf.String(), "serial line noise") }

	if !n.Add("bad frames", 1) || lines() != 1 {
		t.Fatalf("first noise after quiet: want a line at once, got %d", lines())
	}
	// 20 s of random bytes: thousands of bad reads, no more lines.
	for i := range 33611 {
		clk.t = clk.t.Add(time.Duration(i%2) * time.Millisecond)
		if n.Add("bad frames", 3) {
			t.Fatalf("a second line within the minute at read %d", i)
		}
	}
	n.Add("unmatched lines", 2)
	if lines() != 1 {
		t.Fatalf("%d lines within a minute", lines())
	}
	clk.t = clk.t.Add(time.Minute)
	if !n.Add("bad frames", 1) || lines() != 2 {
		t.Fatalf("after a minute: want the summary line, got %d lines", lines())
	}
	last := buf.String()[strings.LastIndex(buf.String(), "serial line noise"):]
	for _, want := range []string{"device=card", `"bad frames"=100834`, `"unmatched lines"=2`, `"bad frames since start"=100835`} {
		if !strings.Contains(last, want) {
			t.Errorf("summary %q lacks %s", last, want)
		}
	}
	n.Add("bad frames", 5)
	n.Flush()
	if lines() != 3 || !strings.Contains(buf.String()[strings.LastIndex(buf.String(), "serial line noise"):], `"bad frames"=5`) {
		t.Fatalf("flush: %s", buf.String())
	}
	n.Flush() // nothing pending: no line
	if lines() != 3 {
		t.Fatal("an empty flush wrote a line")
	}
}
