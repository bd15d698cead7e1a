package api

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Sentinel errors, matched with errors.Is.
var (
	// ErrUserNotFound: MyQ answered, and no user has that card or username.
	ErrUserNotFound = errors.New("user not found")
	// ErrUserInactive: the card belongs to a MyQ user whose account is not
	// active (isActive 0).
	ErrUserInactive = errors.New("user account not active")
	// ErrAmbiguousUser: more than one user matched; the kiosk must not guess.
	ErrAmbiguousUser = errors.New("more than one user matched")
	// ErrMalformed: a 2xx answer whose body is not what the API promises.
	ErrMalformed = errors.New("malformed response")
	// ErrResponseTooLarge: the answer exceeded MaxResponseBytes; it was not read whole.
	ErrResponseTooLarge = errors.New("response larger than 1 MiB")
	// ErrConfig: Config is unusable (wrapped by New).
	ErrConfig = errors.New("api config")
	// ErrInvalidArgument: the caller asked for something MyQ must never see
	// (a zero or negative amount, an empty id).
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrIncompleteListing: a paged listing could not be read whole and
	// consistently (its count changed, items repeated or went missing, too
	// many pages). What it lacks may exist: never read it as absence.
	ErrIncompleteListing = errors.New("incomplete listing")
)

// Error is what every Client call returns when it fails. Status is the HTTP
// status (0 when no answer arrived); Code and Message come from MyQ's error
// body {"code":…,"message":…} (Code can differ from Status); Err is the cause
// (a transport error, ErrMalformed, ErrUserNotFound…).
type Error struct {
	Op      string
	Status  int
	Code    int
	Message string
	Err     error
	// RetryAfter is the answer's Retry-After (503, 429), 0 when absent.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("myq ")
	b.WriteString(e.Op)
	// A 2xx status is no part of what went wrong (a 200 with no user).
	if e.Status != 0 && (e.Status < 200 || e.Status > 299) {
		fmt.Fprintf(&b, ": HTTP %d", e.Status)
	}
	if e.Code != 0 && e.Code != e.Status {
		fmt.Fprintf(&b, " (code %d)", e.Code)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

func asError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// IsTransient reports whether retrying later may succeed: no answer arrived
// (refused, reset, dropped, the request's deadline), or MyQ answered 5xx,
// 429 or 408. A transient error on a create or commit is ambiguous: the change
// may have been applied.
func IsTransient(err error) bool {
	if err == nil {
		return false
	}
	if e, ok := asError(err); ok && e.Status != 0 {
		return e.Status >= 500 || e.Status == http.StatusTooManyRequests || e.Status == http.StatusRequestTimeout
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	if errors.Is(err, context.Canceled) {
		// The caller gave up (shutdown): not a property of the server.
		return false
	}
	// A bad certificate will not heal by retrying soon.
	var uae x509.UnknownAuthorityError
	var hne x509.HostnameError
	var cie x509.CertificateInvalidError
	var rhe tls.RecordHeaderError
	if errors.As(err, &uae) || errors.As(err, &hne) || errors.As(err, &cie) || errors.As(err, &rhe) {
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed) || isTransportError(err)
}

// isTransportError: the request never got an HTTP answer.
func isTransportError(err error) bool {
	e, ok := asError(err)
	return ok && e.Status == 0 && errors.Is(e.Err, errTransport)
}

// errTransport marks errors from http.Client.Do (no answer arrived).
var errTransport = errors.New("no answer")

// IsPermanent reports whether retrying the same request will not help: MyQ
// answered 4xx (other than 401, which the client already handled by
// re-authenticating once, and 408/429), or the user does not exist, or the
// caller passed an invalid argument.
func IsPermanent(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrUserNotFound) || errors.Is(err, ErrUserInactive) || errors.Is(err, ErrAmbiguousUser) || errors.Is(err, ErrInvalidArgument) {
		return true
	}
	e, ok := asError(err)
	if !ok {
		return false
	}
	s := e.Status
	return s >= 400 && s < 500 && s != http.StatusUnauthorized &&
		s != http.StatusTooManyRequests && s != http.StatusRequestTimeout
}

// IsAuth reports a 401 that survived one re-authentication: the client id or
// secret is wrong or revoked. Neither transient nor permanent in the sense
// above; a technician must act.
func IsAuth(err error) bool {
	e, ok := asError(err)
	return ok && e.Status == http.StatusUnauthorized
}

// IsProviderDisabled reports MyQ's "Payment provider is disabled" refusal
// (External Payment Providers switched off in Settings > Credit).
func IsProviderDisabled(err error) bool {
	e, ok := asError(err)
	return ok && strings.Contains(strings.ToLower(e.Message), "payment provider is disabled")
}

// IsInvalidState reports MyQ's "The operation cannot be performed in the
// current state" for a payment (commit of a committed or rolled-back payment),
// excluding the provider-disabled variant of the same sentence.
func IsInvalidState(err error) bool {
	e, ok := asError(err)
	if !ok {
		return false
	}
	m := strings.ToLower(e.Message)
	return strings.Contains(m, "cannot be performed in the current state") &&
		!strings.Contains(m, "provider is disabled")
}

// IsIncomplete reports a listing that could not be read whole
// (ErrIncompleteListing). Asking again later may succeed.
func IsIncomplete(err error) bool { return errors.Is(err, ErrIncompleteListing) }

// IsForbidden reports a 403: the token lacks a scope or the REST application
// lacks a right ("Manage users", "Manage payments").
func IsForbidden(err error) bool {
	e, ok := asError(err)
	return ok && e.Status == http.StatusForbidden
}

// IsNotFound reports a 404 (unknown payment or user id, or a missing endpoint).
func IsNotFound(err error) bool {
	e, ok := asError(err)
	return ok && e.Status == http.StatusNotFound
}

// MaxRetryAfter caps a server's Retry-After: a kiosk never sits out longer
// on one answer, whatever the server says.
const MaxRetryAfter = time.Hour

// RetryAfter is how long MyQ asked the kiosk to wait before the next request
// (the Retry-After of a 503 or 429), 0 when it did not say.
func RetryAfter(err error) time.Duration {
	if e, ok := asError(err); ok {
		return e.RetryAfter
	}
	return 0
}

// parseRetryAfter reads a Retry-After value (RFC 9110 section 10.2.3):
// delay-seconds or an HTTP-date, relative to now. Anything else, or a time
// in the past, is 0; more than MaxRetryAfter is capped.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if strings.Trim(v, "0123456789") == "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n > int64(MaxRetryAfter/time.Second) {
			return MaxRetryAfter // only an overflowing run of digits fails here
		}
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), MaxRetryAfter)
}
