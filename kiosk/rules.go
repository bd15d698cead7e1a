package kiosk

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/printroom/voucherkiosk/devices"
)

// noteCheck is everything the escrow rule looks at.
type noteCheck struct {
	session      bool  // a session is open and not finishing
	journalOK    bool  // the journal takes writes
	inService    bool  // not out of service, not shutting down
	total        int64 // the session's money plus its notes still in escrow
	amount       int64 // the note
	max          int64 // max_topup; 0 = none
	alreadyKnown bool  // the same note offered twice
}

// noteAcceptable is DESIGN step 3 for notes: stack only what can be
// journaled into an open session and still fits under max_topup.
func noteAcceptable(c noteCheck) (bool, string) {
	switch {
	case c.amount <= 0:
		return false, "no amount"
	case c.alreadyKnown:
		return false, "note already pending"
	case !c.session:
		return false, "no open session"
	case !c.journalOK:
		return false, "journal failing"
	case !c.inService:
		return false, "out of service"
	case c.max > 0 && c.total+c.amount > c.max:
		return false, "over max top-up"
	}
	return true, ""
}

// maxReached: nothing more fits. With the accepted values known, a session
// is full when even the smallest piece would pass max_topup; acceptors are
// then inhibited (a coin in flight may still land: it is counted anyway).
func maxReached(total, max int64, accepted []int64) bool {
	if max <= 0 {
		return false
	}
	if total >= max {
		return true
	}
	return len(accepted) > 0 && accepted[0] > 0 && total+accepted[0] > max
}

// finishDeadline is when a session books itself and the reason it gives.
//
//   - No money, or a note still in escrow (or Enter waiting for one): none.
//   - At or above min_topup: idle_finish after the last credit ("idle"; "max"
//     when max_topup was reached: the session does not finish the moment it
//     is full, so a coin already in the chute still lands in it).
//   - Below min_topup: card_timeout after the last credit ("timeout"): the
//     money is booked as it is, never cancelled or left waiting forever.
func finishDeadline(total int64, lastMoney time.Time, waiting, full bool, cfg Config) (time.Time, string) {
	if total <= 0 || waiting {
		return time.Time{}, ""
	}
	if total < cfg.MinTopup {
		return lastMoney.Add(cfg.CardTimeout), ReasonTimeout
	}
	if full {
		return lastMoney.Add(cfg.IdleFinish), ReasonMax
	}
	return lastMoney.Add(cfg.IdleFinish), ReasonIdle
}

// deviceOutage names the device whose loss stops the kiosk taking new
// sessions: the card reader, or every acceptor at once.
func deviceOutage(reader string, acceptors []string, st map[string]devices.StatusChange) string {
	if reader != "" {
		if s, ok := st[reader]; ok && s.Status == devices.StatusDisconnected {
			return fmt.Sprintf("The card reader (%s) is disconnected.", reader)
		}
	}
	if len(acceptors) == 0 {
		return ""
	}
	for _, a := range acceptors {
		if s, ok := st[a]; !ok || s.Status != devices.StatusDisconnected {
			return ""
		}
	}
	return fmt.Sprintf("Every cash acceptor is disconnected (%s).", strings.Join(acceptors, ", "))
}

// SessionID is "YYMMDD-HHMMSS-<random>" in UTC: readable on a receipt, and
// unique across restarts and a lost journal through the time and the
// randomness together.
func SessionID(now time.Time, random string) string {
	return now.UTC().Format("060102-150405") + "-" + random
}

// RandomID is 8 bytes (64 bits) from crypto/rand in hex
// ("7f3a9c01d2e4b856"): the session id is the transaction reference, and a
// kiosk with no real-time clock can boot into a second it used before, with
// its state directory wiped; the randomness alone keeps references apart.
func RandomID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on Linux (Go 1.24+: it panics instead)
	return hex.EncodeToString(b[:])
}
