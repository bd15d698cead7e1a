package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Money is an amount in minor units (cents). It never passes through a float:
// MyQ's decimal amounts are parsed and written as exact decimal text.
type Money int64

// MaxMoney is the largest amount the kiosk accepts from MyQ or sends to it
// (1,000,000.00). Anything larger is a broken or hostile answer.
const MaxMoney Money = 1_000_000_00

// ErrMoney is wrapped by every money parse error.
var ErrMoney = errors.New("invalid amount")

// ParseMoney parses a non-negative decimal amount with at most two decimals:
// "13", "13.5" and "13.50" are all 1350. Signs, exponents, more than two
// decimals, missing digits ("13.", ".5") and amounts above MaxMoney are errors.
func ParseMoney(s string) (Money, error) {
	return parseDecimal(s, false, false)
}

// parseDecimal is the one decimal parser. allowNeg admits a leading '-' (a
// balance may be negative); truncate drops decimals beyond the second instead
// of failing (for a balance that is only ever displayed).
func parseDecimal(s string, allowNeg, truncate bool) (Money, error) {
	orig := s
	bad := func(why string) (Money, error) {
		if len(orig) > 32 {
			orig = orig[:32] + "…"
		}
		return 0, fmt.Errorf("%w %q: %s", ErrMoney, orig, why)
	}
	neg := false
	if allowNeg && strings.HasPrefix(s, "-") {
		neg = true
		s = s[1:]
	}
	intPart, frac, hasDot := strings.Cut(s, ".")
	if intPart == "" {
		return bad("no digits before the decimal point")
	}
	if hasDot && frac == "" {
		return bad("no digits after the decimal point")
	}
	var v int64
	for i := 0; i < len(intPart); i++ {
		c := intPart[i]
		if c < '0' || c > '9' {
			return bad("not a plain decimal number")
		}
		v = v*10 + int64(c-'0')
		if v > int64(MaxMoney/100) {
			return bad("larger than 1,000,000.00")
		}
	}
	for i := 0; i < len(frac); i++ {
		if c := frac[i]; c < '0' || c > '9' {
			return bad("not a plain decimal number")
		}
	}
	if len(frac) > 2 {
		if !truncate {
			return bad("more than two decimals")
		}
		frac = frac[:2]
	}
	cents := int64(0)
	switch len(frac) {
	case 1:
		cents = int64(frac[0]-'0') * 10
	case 2:
		cents = int64(frac[0]-'0')*10 + int64(frac[1]-'0')
	}
	m := Money(v*100 + cents)
	if m > MaxMoney {
		return bad("larger than 1,000,000.00")
	}
	if neg {
		m = -m
	}
	return m, nil
}

// String writes the amount with exactly two decimals: "13.50", "-0.05".
func (m Money) String() string {
	sign := ""
	u := uint64(m)
	if m < 0 {
		sign = "-"
		u = uint64(-m)
	}
	return fmt.Sprintf("%s%d.%02d", sign, u/100, u%100)
}

// MarshalJSON writes a JSON number with exactly two decimals (13.50): MyQ
// reads amounts as decimals, and a fixed form keeps request bodies
// byte-for-byte predictable.
func (m Money) MarshalJSON() ([]byte, error) {
	return []byte(m.String()), nil
}

// UnmarshalJSON accepts a JSON number or a numeric string with the rules of
// ParseMoney. null is an error: a missing amount must never read as zero.
func (m *Money) UnmarshalJSON(b []byte) error {
	v, err := decodeMoney(b, false, false)
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// decodeMoney reads a raw JSON value (number or string) as Money.
func decodeMoney(b []byte, allowNeg, truncate bool) (Money, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || bytes.Equal(b, []byte("null")) {
		return 0, fmt.Errorf("%w: missing (null)", ErrMoney)
	}
	if b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return 0, fmt.Errorf("%w: %v", ErrMoney, err)
		}
		return parseDecimal(strings.TrimSpace(s), allowNeg, truncate)
	}
	// A JSON number: validate it is one (json.Valid), then parse its text.
	if !json.Valid(b) {
		return 0, fmt.Errorf("%w: not JSON", ErrMoney)
	}
	if b[0] != '-' && (b[0] < '0' || b[0] > '9') {
		return 0, fmt.Errorf("%w: want a number or a numeric string, got %.20s", ErrMoney, b)
	}
	return parseDecimal(string(b), allowNeg, truncate)
}
