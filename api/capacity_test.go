package api_test

import (
	"testing"
	"time"

	"github.com/printroom/voucherkiosk/api"
	"github.com/printroom/voucherkiosk/api/myqfake"
)

// A MyQ over its capacity answers 503 with Retry-After: the client reports
// the wait, and the error is transient (retry later, not attention).
func TestOverCapacityAnswerCarriesRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now } // one second of simulated time
	e := setup(t, myqfake.Options{Capacity: 2, RetryAfter: 7 * time.Second, Clock: clock}, nil)
	// The token and the first lookup fit in the second; the next does not.
	if _, err := e.c.FindUserByCard(ctx(t), "0008844356"); err != nil {
		t.Fatalf("within capacity: %v", err)
	}
	_, err := e.c.FindUserByCard(ctx(t), "0008844356")
	if !api.IsTransient(err) || api.RetryAfter(err) != 7*time.Second {
		t.Fatalf("over capacity: err %v (transient %v), Retry-After %v; want transient with 7s", err, api.IsTransient(err), api.RetryAfter(err))
	}
	if e.fake.Overloaded() != 1 || e.fake.Load()[now.Unix()] != 3 {
		t.Fatalf("fake counted %d overloaded, load %v", e.fake.Overloaded(), e.fake.Load())
	}
}
