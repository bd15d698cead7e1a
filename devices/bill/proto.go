package bill

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// Command is an SSP command code (the first data byte the host sends).
type Command byte

const (
	CmdReset              Command = 0x01
	CmdSetChannelInhibits Command = 0x02
	CmdSetupRequest       Command = 0x05
	CmdHostProtocol       Command = 0x06
	CmdPoll               Command = 0x07
	CmdReject             Command = 0x08
	CmdDisable            Command = 0x09
	CmdEnable             Command = 0x0A
	CmdSync               Command = 0x11
	CmdHold               Command = 0x18
	CmdSetGenerator       Command = 0x4A
	CmdSetModulus         Command = 0x4B
	CmdRequestKeyExchange Command = 0x4C
	CmdPollWithAck        Command = 0x56
	CmdEventAck           Command = 0x57
)

var commandNames = map[Command]string{
	CmdReset: "RESET", CmdSetChannelInhibits: "SET_CHANNEL_INHIBITS", CmdSetupRequest: "SETUP_REQUEST",
	CmdHostProtocol: "HOST_PROTOCOL_VERSION", CmdPoll: "POLL", CmdReject: "REJECT", CmdDisable: "DISABLE",
	CmdEnable: "ENABLE", CmdSync: "SYNC", CmdHold: "HOLD", CmdSetGenerator: "SET_GENERATOR",
	CmdSetModulus: "SET_MODULUS", CmdRequestKeyExchange: "REQUEST_KEY_EXCHANGE",
	CmdPollWithAck: "POLL_WITH_ACK", CmdEventAck: "EVENT_ACK",
}

func (c Command) String() string {
	if n, ok := commandNames[c]; ok {
		return n
	}
	return fmt.Sprintf("Command(0x%02X)", byte(c))
}

// Response is the generic status byte that starts every reply.
type Response byte

const (
	RespOK              Response = 0xF0
	RespUnknownCommand  Response = 0xF2
	RespWrongParams     Response = 0xF3
	RespParamOutOfRange Response = 0xF4
	RespCannotProcess   Response = 0xF5
	RespSoftwareError   Response = 0xF6
	RespFail            Response = 0xF8
	RespKeyNotSet       Response = 0xFA
)

var responseNames = map[Response]string{
	RespOK: "OK", RespUnknownCommand: "UNKNOWN_COMMAND", RespWrongParams: "WRONG_NUMBER_OF_PARAMETERS",
	RespParamOutOfRange: "PARAMETER_OUT_OF_RANGE", RespCannotProcess: "COMMAND_CANNOT_BE_PROCESSED",
	RespSoftwareError: "SOFTWARE_ERROR", RespFail: "FAIL", RespKeyNotSet: "KEY_NOT_SET",
}

func (r Response) String() string {
	if n, ok := responseNames[r]; ok {
		return n
	}
	return fmt.Sprintf("Response(0x%02X)", byte(r))
}

// EventCode is one event in a POLL reply.
type EventCode byte

const (
	EvSlaveReset        EventCode = 0xF1
	EvRead              EventCode = 0xEF // channel: 0 reading, >0 in escrow
	EvCredit            EventCode = 0xEE // channel
	EvRejecting         EventCode = 0xED
	EvRejected          EventCode = 0xEC
	EvStacking          EventCode = 0xCC
	EvStacked           EventCode = 0xEB
	EvSafeJam           EventCode = 0xEA
	EvUnsafeJam         EventCode = 0xE9
	EvDisabled          EventCode = 0xE8
	EvFraudAttempt      EventCode = 0xE6 // channel
	EvStackerFull       EventCode = 0xE7
	EvClearedFromFront  EventCode = 0xE1 // channel
	EvClearedToCashbox  EventCode = 0xE2 // channel
	EvCashboxRemoved    EventCode = 0xE3
	EvCashboxReplaced   EventCode = 0xE4
	EvNotePathOpen      EventCode = 0xE0
	EvChannelDisable    EventCode = 0xB5
	EvInitialising      EventCode = 0xB6
	EvKeyNotSetResponse EventCode = 0xFA
)

var eventNames = map[EventCode]string{
	EvSlaveReset: "SLAVE_RESET", EvRead: "READ", EvCredit: "CREDIT", EvRejecting: "REJECTING",
	EvRejected: "REJECTED", EvStacking: "STACKING", EvStacked: "STACKED", EvSafeJam: "SAFE_JAM",
	EvUnsafeJam: "UNSAFE_JAM", EvDisabled: "DISABLED", EvFraudAttempt: "FRAUD_ATTEMPT",
	EvStackerFull: "STACKER_FULL", EvClearedFromFront: "NOTE_CLEARED_FROM_FRONT",
	EvClearedToCashbox: "NOTE_CLEARED_INTO_CASHBOX", EvCashboxRemoved: "CASHBOX_REMOVED",
	EvCashboxReplaced: "CASHBOX_REPLACED", EvNotePathOpen: "NOTE_PATH_OPEN",
	EvChannelDisable: "CHANNEL_DISABLE", EvInitialising: "INITIALISING", EvKeyNotSetResponse: "KEY_NOT_SET",
}

func (e EventCode) String() string {
	if n, ok := eventNames[e]; ok {
		return n
	}
	return fmt.Sprintf("Event(0x%02X)", byte(e))
}

// hasChannel reports whether the event carries one channel byte.
func (e EventCode) hasChannel() bool {
	switch e {
	case EvRead, EvCredit, EvFraudAttempt, EvClearedFromFront, EvClearedToCashbox:
		return true
	}
	return false
}

// Event is one decoded poll event.
type Event struct {
	Code    EventCode
	Channel int // for events that carry one
}

func (e Event) String() string {
	if e.Code.hasChannel() {
		return fmt.Sprintf("%s %d", e.Code, e.Channel)
	}
	return e.Code.String()
}

// EncodeEvents renders events after an OK byte: a poll reply.
func EncodeEvents(evs []Event) []byte {
	out := []byte{byte(RespOK)}
	for _, e := range evs {
		out = append(out, byte(e.Code))
		if e.Code.hasChannel() {
			out = append(out, byte(e.Channel))
		}
	}
	return out
}

// needsAck reports whether POLL_WITH_ACK repeats the event until EVENT_ACK.
// ITL's text names "the specified events" without a table any reachable
// source reproduces; we take the ones that carry money or a note's final
// place (testdata/conformance/essp marks this UNCERTAIN). Every other event
// is reported once.
func (e EventCode) needsAck() bool {
	switch e {
	case EvCredit, EvClearedFromFront, EvClearedToCashbox:
		return true
	}
	return false
}

// skippable lists event codes this driver does not act on but whose length
// ITL's tables give (no data), so a reply carrying them is still fully
// understood: BAR_CODE_TICKET_VALIDATED, BAR_CODE_TICKET_ACK, DEVICE_FULL,
// PAYOUT_OUT_OF_SERVICE, NOTE_FLOAT_REMOVED/ATTACHED, NOTE_STORED_IN_PAYOUT.
var skippable = map[EventCode]bool{0xE5: true, 0xD1: true, 0xCF: true, 0xC6: true, 0xC7: true, 0xC8: true, 0xDB: true}

// ErrUnknownEvent means a poll reply held an event whose length ITL does not
// give: the rest of the reply cannot be read, so it must not be acknowledged.
var ErrUnknownEvent = errors.New("ssp: poll: unknown event")

// ParseEvents decodes a poll reply (the OK byte first). An event without data
// that ITL documents is returned even if the driver ignores it. An event code
// of unknown length ends the parse with an error wrapping ErrUnknownEvent:
// what follows cannot be trusted; the events before it are returned.
func ParseEvents(reply []byte) ([]Event, error) {
	if len(reply) == 0 {
		return nil, fmt.Errorf("ssp: poll: empty reply")
	}
	if Response(reply[0]) != RespOK {
		return nil, fmt.Errorf("ssp: poll: device answered %s", Response(reply[0]))
	}
	var evs []Event
	for i := 1; i < len(reply); {
		c := EventCode(reply[i])
		if _, known := eventNames[c]; !known && !skippable[c] {
			return evs, fmt.Errorf("%w 0x%02X at byte %d", ErrUnknownEvent, reply[i], i)
		}
		e := Event{Code: c}
		i++
		if c.hasChannel() {
			if i >= len(reply) {
				return evs, fmt.Errorf("ssp: poll: event %s at byte %d lacks its channel", c, i-1)
			}
			e.Channel = int(reply[i])
			i++
		}
		evs = append(evs, e)
	}
	return evs, nil
}

// Setup is the decoded SETUP_REQUEST reply: what the technician sees and
// what the driver checks the configured channel table against.
type Setup struct {
	UnitType        byte
	Firmware        string
	Country         string // ISO currency code of the dataset
	ValueMultiplier uint32
	RealMultiplier  uint32
	Protocol        int
	Channels        []Channel
}

// Channel is one note channel as the device reports it.
type Channel struct {
	Number   int    // 1-based
	Value    int64  // minor units
	Currency string // per channel from protocol 6, else the dataset's country
	Security byte
}

func be24(b []byte) uint32 { return uint32(b[0])<<16 | uint32(b[1])<<8 | uint32(b[2]) }

func printable(b []byte) string {
	s := strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7E {
			return '?'
		}
		return r
	}, string(b))
	return s
}

// ParseSetup decodes a validator's SETUP_REQUEST reply (OK byte first).
// Layout: unit type, firmware (4 ASCII), country (3 ASCII), value multiplier
// (3, big-endian), n channels, n values, n security bytes, real value
// multiplier (3, big-endian), protocol version, then from protocol 6 n
// currencies (3 ASCII each) and n expanded values (uint32 LE).
func ParseSetup(reply []byte) (Setup, error) {
	var s Setup
	if len(reply) == 0 || Response(reply[0]) != RespOK {
		if len(reply) == 0 {
			return s, fmt.Errorf("ssp: setup: empty reply")
		}
		return s, fmt.Errorf("ssp: setup: device answered %s", Response(reply[0]))
	}
	d := reply[1:]
	if len(d) < 12 {
		return s, fmt.Errorf("ssp: setup: reply of %d bytes is too short", len(reply))
	}
	s.UnitType = d[0]
	s.Firmware = printable(d[1:5])
	s.Country = printable(d[5:8])
	s.ValueMultiplier = be24(d[8:11])
	n := int(d[11])
	need := 12 + 2*n + 3 + 1
	if len(d) < need {
		return s, fmt.Errorf("ssp: setup: %d channels need %d bytes, got %d", n, need+1, len(reply))
	}
	values := d[12 : 12+n]
	security := d[12+n : 12+2*n]
	s.RealMultiplier = be24(d[12+2*n : 15+2*n])
	s.Protocol = int(d[15+2*n])
	rest := d[need:]
	expanded := s.Protocol >= 6
	if expanded && len(rest) < 7*n {
		return s, fmt.Errorf("ssp: setup: protocol %d needs %d bytes of expanded channel data, got %d", s.Protocol, 7*n, len(rest))
	}
	real := int64(s.RealMultiplier)
	if real == 0 {
		real = 1
	}
	for i := range n {
		c := Channel{Number: i + 1, Security: security[i], Currency: s.Country}
		if expanded {
			c.Currency = printable(rest[3*i : 3*i+3])
			c.Value = int64(binary.LittleEndian.Uint32(rest[3*n+4*i:])) * real
		} else {
			c.Value = int64(values[i]) * int64(s.ValueMultiplier) * real
		}
		s.Channels = append(s.Channels, c)
	}
	return s, nil
}

// EncodeSetup renders s as a SETUP_REQUEST reply (the simulator's side).
// Values must be multiples of RealMultiplier.
func EncodeSetup(s Setup) []byte {
	real := int64(s.RealMultiplier)
	if real == 0 {
		real = 1
	}
	put24 := func(b []byte, v uint32) []byte { return append(b, byte(v>>16), byte(v>>8), byte(v)) }
	ascii := func(b []byte, v string, n int) []byte {
		v = (v + strings.Repeat(" ", n))[:n]
		return append(b, v...)
	}
	out := []byte{byte(RespOK), s.UnitType}
	out = ascii(out, s.Firmware, 4)
	out = ascii(out, s.Country, 3)
	out = put24(out, s.ValueMultiplier)
	out = append(out, byte(len(s.Channels)))
	for _, c := range s.Channels {
		v := c.Value / real
		if s.ValueMultiplier > 0 {
			v /= int64(s.ValueMultiplier)
		}
		if v > 255 || s.ValueMultiplier == 0 {
			v = 0
		}
		out = append(out, byte(v))
	}
	for _, c := range s.Channels {
		out = append(out, c.Security)
	}
	out = put24(out, s.RealMultiplier)
	out = append(out, byte(s.Protocol))
	if s.Protocol >= 6 {
		for _, c := range s.Channels {
			out = ascii(out, c.Currency, 3)
		}
		for _, c := range s.Channels {
			out = binary.LittleEndian.AppendUint32(out, uint32(c.Value/real))
		}
	}
	return out
}
