package devices

import (
	"log/slog"
	"sort"
	"time"
)

// NoiseEvery is how often a device may write a line about line noise.
const NoiseEvery = time.Minute

// Noise counts what a device threw away (bad frames, lines that match no
// pattern) and writes at most one line per device per NoiseEvery: random
// bytes on a serial line must not flood the log (issue 14 measured 33,611
// lines in 20 s). The first noise after a quiet minute is written at once,
// so a technician sees it; the rest is summed into the next line. The zero
// value is not usable: use NewNoise.
type Noise struct {
	device string
	log    *slog.Logger
	now    func() time.Time
	every  time.Duration

	last    time.Time      // when the last line was written; zero: never
	pending map[string]int // counts since the last line
	total   map[string]int // counts since start
}

// NewNoise reports for device on log. now nil means time.Now.
func NewNoise(device string, log *slog.Logger, now func() time.Time) *Noise {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Noise{device: device, log: log, now: now, every: NoiseEvery, pending: map[string]int{}, total: map[string]int{}}
}

// Add counts n discarded items of a kind ("bad frames"). It reports whether
// it wrote a line now (callers raise their status event only then).
func (n *Noise) Add(kind string, count int) bool {
	if count <= 0 {
		return false
	}
	n.pending[kind] += count
	n.total[kind] += count
	now := n.now()
	if !n.last.IsZero() && now.Sub(n.last) < n.every {
		return false
	}
	n.write(now)
	return true
}

// Flush writes what is still counted (at the end of a session).
func (n *Noise) Flush() {
	if len(n.pending) > 0 {
		n.write(n.now())
	}
}

// Summary is the counts not yet written and since start, for a status line.
func (n *Noise) Summary() (pending, total map[string]int) {
	cp := func(m map[string]int) map[string]int {
		out := make(map[string]int, len(m))
		for k, v := range m {
			out[k] = v
		}
		return out
	}
	return cp(n.pending), cp(n.total)
}

func (n *Noise) write(now time.Time) {
	kinds := make([]string, 0, len(n.pending))
	for k := range n.pending {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	args := []any{"device", n.device}
	if !n.last.IsZero() {
		args = append(args, "since", now.Sub(n.last).Round(time.Second).String())
	}
	for _, k := range kinds {
		args = append(args, k, n.pending[k], k+" since start", n.total[k])
	}
	n.log.Warn("serial line noise", args...)
	n.last = now
	clear(n.pending)
}
