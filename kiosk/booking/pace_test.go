package booking

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/printroom/voucherkiosk/api"
)

// Consecutively numbered kiosks spread over the spacing as evenly as the
// golden-ratio sequence does: for any fleet size, no second of a 23 s
// spacing holds more than a few kiosks above the fleet's average.
func TestPhasesSpreadTheFleet(t *testing.T) {
	const spacing = 23 * time.Second
	for _, n := range []int{10, 100, 500} {
		per := make([]int, spacing/time.Second)
		for i := range n {
			p := phaseOf(fmt.Sprintf("lib-%03d", i), spacing)
			if p < 0 || p >= spacing {
				t.Fatalf("phase %v outside [0, %v)", p, spacing)
			}
			per[p/time.Second]++
		}
		avg := float64(n) / float64(len(per))
		if m := slices.Max(per); float64(m) > avg+3 {
			t.Errorf("%d kiosks: %d in one second of the spacing, average %.1f: %v", n, m, avg, per)
		}
	}
	if phaseOf("library", spacing) == phaseOf("canteen", spacing) {
		t.Error("ids without a number share a phase")
	}
	if phaseOf("lib-7", 0) != 0 {
		t.Error("a phase without a spacing")
	}
}

func TestSlotAtOrAfter(t *testing.T) {
	const spacing = 20 * time.Second
	phase := 7 * time.Second
	base := time.Unix(1_000_000_000, 0) // a multiple of 20 s since the epoch
	for _, c := range []struct{ at, want time.Duration }{
		{0, 7 * time.Second},
		{7 * time.Second, 7 * time.Second},
		{7*time.Second + 1, 27 * time.Second},
		{26 * time.Second, 27 * time.Second},
	} {
		if got := slotAtOrAfter(base.Add(c.at), spacing, phase).Sub(base); got != c.want {
			t.Errorf("slot at or after +%v = +%v, want +%v", c.at, got, c.want)
		}
	}
}

// A 503 or 429 with Retry-After closes the gate for at least that long,
// on a slot of the kiosk; the queued attempts then start one per slot.
func TestRetryAfterAndPaceHoldTheQueue(t *testing.T) {
	now := time.Unix(1_000_000_000, 0)
	b := &Booker{
		cfg: Config{MinBackoff: time.Second, MaxBackoff: time.Minute, MaxInFlight: 2, DrainSpacing: 20 * time.Second,
			Now: func() time.Time { return now }, Jitter: func(time.Duration) time.Duration { return 0 }},
		entries: map[string]*entry{}, online: true, log: testLog(t),
	}
	b.phase = 3 * time.Second
	for i := range 3 {
		e := &entry{id: fmt.Sprint(i), nextAt: now}
		b.entries[e.id] = e
		b.order = append(b.order, e)
	}
	for _, c := range []struct {
		status int
		gate   time.Duration // slots are at 3 s + k*20 s since the epoch
	}{{http.StatusServiceUnavailable, 103 * time.Second}, {http.StatusTooManyRequests, 100 * time.Second}} {
		status := c.status
		b.mu.Lock()
		start := b.pickLocked(now)
		b.mu.Unlock()
		if len(start) != 1 {
			t.Fatalf("%d queued attempts started in one slot, want 1", len(start))
		}
		b.settle(start[0], outcome{kind: failGlobal, err: &api.Error{Op: "commit payment", Status: status, RetryAfter: 90 * time.Second}})
		if want := now.Add(c.gate); !b.gateAt.Equal(want) {
			t.Fatalf("HTTP %d with Retry-After 90 s: gate at +%v, want +%v (the first slot after 90 s)", status, b.gateAt.Sub(now), want.Sub(now))
		}
		b.mu.Lock()
		early := b.pickLocked(now.Add(c.gate - time.Second))
		wake := b.nextWakeLocked()
		b.mu.Unlock()
		if len(early) != 0 || !wake.Equal(b.gateAt) {
			t.Fatalf("before the gate: %d started, wake at +%v", len(early), wake.Sub(now))
		}
		now = b.gateAt
	}
	// MyQ answers: the probe commits; the queue drains one per slot, from
	// the next one.
	b.mu.Lock()
	probe := b.pickLocked(now)
	b.mu.Unlock()
	b.settle(probe[0], outcome{committed: true})
	b.mu.Lock()
	defer b.mu.Unlock()
	if w := b.nextWakeLocked(); !w.Equal(now.Add(20 * time.Second)) {
		t.Errorf("next wake +%v, want +20s", w.Sub(now))
	}
	if got := b.pickLocked(now.Add(20*time.Second - 1)); len(got) != 0 {
		t.Errorf("before the next slot: %d started", len(got))
	}
	if got := b.pickLocked(now.Add(20 * time.Second)); len(got) != 1 {
		t.Errorf("the next slot: %d started, want 1", len(got))
	}
}

// While the token request is what fails, a probe asks MyQ for a token
// alone: after an outage a kiosk sends at most two requests a slot (the
// token, then create and commit), never the four of a booking that also
// fetched a token and listed (a create that never got a token was not
// sent, so nothing needs listing).
func TestTokenProbe(t *testing.T) {
	tokenErr := &api.Error{Op: "token", Status: http.StatusServiceUnavailable}
	if !definite(tokenErr) || definite(&api.Error{Op: "create payment", Status: http.StatusServiceUnavailable}) {
		t.Fatal("a failed token request must count as a create not sent, a 503 to the create must not")
	}
	now := time.Unix(1_000_000_000, 0)
	b := &Booker{
		cfg: Config{MinBackoff: time.Second, MaxBackoff: time.Minute, MaxInFlight: 2, DrainSpacing: 20 * time.Second,
			Now: func() time.Time { return now }, Jitter: func(max time.Duration) time.Duration { return max - 1 }},
		entries: map[string]*entry{}, online: true, log: testLog(t),
	}
	b.phase = 3 * time.Second
	e := &entry{id: "1", nextAt: now}
	b.entries[e.id] = e
	b.order = append(b.order, e)
	b.mu.Lock()
	b.pickLocked(now)
	b.mu.Unlock()
	b.settle(e, outcome{kind: failGlobal, err: tokenErr})
	if want := now.Add(3 * time.Second); !b.gateAt.Equal(want) || !b.noToken {
		t.Fatalf("after a token failure: gate +%v (want the next slot, +3s, whatever the backoff), token-only probe %v", b.gateAt.Sub(now), b.noToken)
	}
	now = b.gateAt
	b.mu.Lock()
	b.pickLocked(now)
	b.mu.Unlock()
	b.settle(e, outcome{yielded: true})
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.failures != 0 || !b.online || e.done {
		t.Fatalf("the answered probe: failures %d, online %v, done %v", b.failures, b.online, e.done)
	}
	if w := b.nextWakeLocked(); !w.Equal(now.Add(20 * time.Second)) {
		t.Errorf("the booking after the probe at +%v, want the next slot, +20s", w.Sub(now))
	}
}
