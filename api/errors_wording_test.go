package api

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

// MyQ answered 200 with no user: the HTTP status is no part of what went
// wrong, and "HTTP 200: user not found" reads as a contradiction.
func TestErrorOmitsSuccessStatus(t *testing.T) {
	e := &Error{Op: "find user by card", Status: http.StatusOK, Err: ErrUserNotFound}
	if got := e.Error(); got != "myq find user by card: user not found" || !errors.Is(e, ErrUserNotFound) {
		t.Errorf("Error() = %q", got)
	}
	e = &Error{Op: "find user by card", Status: http.StatusForbidden, Message: "Forbidden"}
	if got := e.Error(); !strings.Contains(got, "HTTP 403") {
		t.Errorf("Error() = %q, want the failing status", got)
	}
}
