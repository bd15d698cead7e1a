package booking

import (
	"hash/fnv"
	"math/bits"
	"strconv"
	"strings"
	"time"
)

// A campus of kiosks shares one MyQ. After an outage every kiosk holds a
// backlog, and if each sent it as fast as MyQ answers, the fleet would knock
// MyQ over again as it came back. So queued attempts (not a student's
// fresh session, which always goes at once) start only on the kiosk's own
// slots: every DrainSpacing, shifted by a phase taken from the kiosk id so
// the fleet's slots spread over the spacing instead of piling up. A slot
// carries at most two requests (attempt.go: a token-only probe while the
// token request fails; a session needing more goes on in its next slot), so
// no second holds more than twice the kiosks whose slot falls in it, and
// the fleet's drain rate is about kiosks x 2 requests / DrainSpacing.

// phaseOf places a kiosk within a spacing. A kiosk id ending in a number
// ("lib-017") is spread by Fibonacci hashing of that number (the golden
// ratio sequence), so consecutively numbered kiosks land as evenly apart as
// possible for any fleet size; other ids by their FNV-1a hash.
func phaseOf(id string, spacing time.Duration) time.Duration {
	if spacing <= 0 {
		return 0
	}
	var x uint64
	digits := strings.TrimRight(id, "0123456789")
	if n, err := strconv.ParseUint(id[len(digits):], 10, 64); err == nil && len(digits) < len(id) {
		x = n * 0x9e3779b97f4a7c15 // 2^64 / golden ratio
	} else {
		h := fnv.New64a()
		h.Write([]byte(id))
		x = h.Sum64()
	}
	hi, _ := bits.Mul64(x, uint64(spacing)) // x/2^64 of the spacing
	return time.Duration(hi)
}

// slotAtOrAfter is the kiosk's first slot at or after t: slots are the
// times phase + k*spacing since the Unix epoch, the same grid on every
// kiosk whose clock is set.
func slotAtOrAfter(t time.Time, spacing, phase time.Duration) time.Time {
	if spacing <= 0 {
		return t
	}
	ns := t.UnixNano() - int64(phase)
	r := ns % int64(spacing)
	if r < 0 {
		r += int64(spacing)
	}
	if r == 0 {
		return t
	}
	return t.Add(time.Duration(int64(spacing) - r))
}
