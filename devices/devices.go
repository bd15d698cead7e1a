// Package devices owns what the kiosk's serial hardware reports and how the
// kiosk talks back to it: the event types (card read, credit, note in escrow,
// unrecognised cash, device status), the small interfaces every reader and
// acceptor implements, and opening a serial port and keeping it open across
// unplugged cables.
// See docs/ARCHITECTURE.md for its place among the packages.
//
// Protocol packages (card, coin, bill) implement Device and, where the
// hardware can refuse money, Acceptor. Amounts are int64 minor units
// (cents): no float ever carries money.
package devices

import (
	"context"
	"time"
)

// Event is one thing a device reported. The concrete types are CardRead,
// Credit, Escrow, NoteReturned, UnrecognisedCash and StatusChange.
type Event interface {
	// DeviceName is the configured name of the device that reported it.
	DeviceName() string
}

// CardRead is a card presented to a reader. Number is the card number after
// the configured transform chain: it is what MyQ is asked about. Never log it
// whole: use MaskCard.
type CardRead struct {
	Device string
	Number string
	At     time.Time
}

// Credit is money the device has irrevocably taken: a coin in the cash box or
// a note stacked. It must be journaled before anyone counts it.
type Credit struct {
	Device string
	Amount int64 // minor units
	// Key is the configured values key that matched: the pulse count, the
	// ccTalk coin position or the SSP channel, as written in the config.
	Key string
	// Counter is the ccTalk event counter after this credit (1..255), 0 for
	// devices without one. The engine journals it and hands the last one back
	// to the driver at start, so a restart neither re-credits nor drops coins.
	Counter int
	// NoteID is set for notes: the Escrow.NoteID this credit settles. After a
	// restart the driver may not know it (empty): the engine then settles the
	// oldest pending note of this device with the same Key.
	NoteID string
	At     time.Time
	// Ack, when set, is called by the engine's loop once the credit is
	// durable in the journal (never while only held in memory after a
	// journal failure: it is called when the journal heals). A driver
	// that confirms money to its hardware (SSP EVENT_ACK) waits for it: if
	// the kiosk dies first, the device reports the credit again after the
	// restart instead of forgetting a note nobody journaled.
	Ack func()
}

// EscrowDecision is the engine's answer for a note held in escrow.
type EscrowDecision int

const (
	// Reject gives the note back to the customer.
	Reject EscrowDecision = iota
	// Stack keeps the note. The engine answers Stack only after the note is
	// journaled as pending (fsync returned).
	Stack
)

func (d EscrowDecision) String() string {
	switch d {
	case Stack:
		return "stack"
	case Reject:
		return "reject"
	}
	return "EscrowDecision(?)"
}

// Escrow is a note held by a bill validator. The driver keeps it held (SSP
// HOLD) until an answer arrives on Decide; without an answer in its hold
// limit it rejects the note. The money counts only when a Credit with the
// same NoteID follows.
type Escrow struct {
	Device string
	NoteID string                // unique for this note, e.g. "<device>-<unix nanos>"
	Key    string                // the SSP channel as the config writes it
	Amount int64                 // minor units
	Decide chan<- EscrowDecision // buffered (1): sending never blocks
	At     time.Time
}

// NoteReturned says a note that was in escrow went back to the customer
// (rejected, returned by the device, or found gone after a reset or
// reconnect with no credit). An empty NoteID means: no note of this device is
// in escrow any more and none is waiting for a credit, so every pending note
// of this device was returned.
type NoteReturned struct {
	Device string
	NoteID string
	At     time.Time
}

// UnrecognisedCash is money that went into the box but matched no configured
// value (a pulse train of an unknown length, merged coins). It is not credited
// to anyone, but it must reach the cash-up report.
type UnrecognisedCash struct {
	Device string
	What   string // e.g. "7 pulses"
	// Counter is the ccTalk event counter of this event (0 for devices
	// without one): journaled like a credit's, so a restart does not report
	// the same coin to the cash-up twice.
	Counter int
	At      time.Time
}

// StatusChange reports a device's condition: connection, faults, alarms.
type StatusChange struct {
	Device string
	Status Status
	Detail string // free text for the technician; never a whole card number
	At     time.Time
}

func (e CardRead) DeviceName() string         { return e.Device }
func (e Credit) DeviceName() string           { return e.Device }
func (e Escrow) DeviceName() string           { return e.Device }
func (e NoteReturned) DeviceName() string     { return e.Device }
func (e UnrecognisedCash) DeviceName() string { return e.Device }
func (e StatusChange) DeviceName() string     { return e.Device }

// Device is a reader or acceptor on a serial port.
type Device interface {
	// Name is the configured name ("card", "coins", "notes").
	Name() string
	// Run talks to the hardware until ctx ends, sending what it reports on
	// out, reconnecting when the port vanishes. It returns nil when ctx ends
	// and an error only for something retrying cannot fix (a wrong config).
	// Sends on out may block: the engine's loop drains it.
	Run(ctx context.Context, out chan<- Event) error
}

// Acceptor is a device that takes money.
type Acceptor interface {
	Device
	// CanInhibit reports whether the hardware can refuse money. A pulse
	// acceptor cannot: coins inserted while idle are unclaimed cash.
	CanInhibit() bool
	// SetAccepting enables (true) or inhibits (false) intake. It never
	// blocks; the driver applies it on its next exchange with the device
	// and again after every reconnect. Starts inhibited.
	SetAccepting(on bool)
}

// Status is a device's condition as the technician sees it.
type Status int

const (
	StatusUnknown      Status = iota
	StatusConnected           // port open, device answering
	StatusDisconnected        // port gone (USB unplugged) or device silent; reopening
	StatusOK                  // a fault cleared
	StatusReset               // the device reset itself (power glitch)
	StatusEventsLost          // more events happened than the device could buffer: count the cash box
	StatusCoinRejected        // a coin was refused and returned (not money taken)
	StatusNoteRejected        // a note was refused and returned
	StatusSensorBlocked
	StatusJammed
	StatusFraudAttempt
	StatusStackerFull
	StatusCashboxRemoved
	StatusBadFrames // garbage on the line (wiring, baud rate)
	StatusConfigMismatch
	StatusFault // anything else the device reported; Detail says what
)

var statusNames = [...]string{
	StatusUnknown:        "unknown",
	StatusConnected:      "connected",
	StatusDisconnected:   "disconnected",
	StatusOK:             "ok",
	StatusReset:          "device reset",
	StatusEventsLost:     "events lost",
	StatusCoinRejected:   "coin rejected",
	StatusNoteRejected:   "note rejected",
	StatusSensorBlocked:  "sensor blocked",
	StatusJammed:         "jammed",
	StatusFraudAttempt:   "fraud attempt",
	StatusStackerFull:    "stacker full",
	StatusCashboxRemoved: "cash box removed",
	StatusBadFrames:      "bad frames",
	StatusConfigMismatch: "config mismatch",
	StatusFault:          "fault",
}

func (s Status) String() string {
	if s >= 0 && int(s) < len(statusNames) {
		return statusNames[s]
	}
	return "Status(?)"
}

// Healthy reports whether a device in this status can take part in a top-up.
func (s Status) Healthy() bool {
	switch s {
	case StatusConnected, StatusOK, StatusCoinRejected, StatusNoteRejected, StatusReset:
		return true
	}
	return false
}

// MaskCard hides all but the last four characters of a card number, for logs
// and screens.
func MaskCard(n string) string {
	r := []rune(n)
	if len(r) <= 4 {
		return "****"[:len(r)]
	}
	out := make([]rune, len(r))
	for i := range r {
		if i < len(r)-4 {
			out[i] = '*'
		} else {
			out[i] = r[i]
		}
	}
	return string(out)
}
