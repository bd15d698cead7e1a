package api

import (
	"net/http"
	"testing"
	"time"
)

// The two forms of Retry-After in RFC 9110 section 10.2.3, with its own
// examples: an HTTP-date and delay-seconds.
func TestRetryAfterRFC9110Examples(t *testing.T) {
	now := time.Date(1999, 12, 31, 23, 57, 59, 0, time.UTC)
	for _, c := range []struct {
		v    string
		want time.Duration
	}{
		{"Fri, 31 Dec 1999 23:59:59 GMT", 2 * time.Minute}, // RFC 9110's example date
		{"120", 2 * time.Minute},                           // RFC 9110's example delay
		{"0", 0},
		{"", 0},
		{"-5", 0},                               // not delay-seconds (1*DIGIT)
		{"1.5", 0},                              // likewise
		{"soon", 0},                             // neither form
		{"Thu, 30 Dec 1999 00:00:00 GMT", 0},    // in the past: retry now
		{"99999999999999999999", MaxRetryAfter}, // hostile: capped
		{"86400", MaxRetryAfter},
	} {
		if got := parseRetryAfter(c.v, now); got != c.want {
			t.Errorf("Retry-After %q: %v, want %v", c.v, got, c.want)
		}
	}
}

func TestRetryAfterOfError(t *testing.T) {
	if d := RetryAfter(&Error{Op: "commit payment", Status: http.StatusServiceUnavailable, RetryAfter: 3 * time.Second}); d != 3*time.Second {
		t.Errorf("RetryAfter = %v", d)
	}
	if d := RetryAfter(http.ErrHandlerTimeout); d != 0 {
		t.Errorf("RetryAfter of another error = %v", d)
	}
}
