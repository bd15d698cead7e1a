package journal

import (
	"encoding/json"
	"unicode/utf8"
)

// Replay spends most of its time in encoding/json: validating each
// record's Data and then decoding it into the payload struct through
// reflection, for tens of thousands of records whose Data is always the
// same few flat objects that json.Marshal wrote. The functions here read
// exactly that shape by hand. They are deliberately narrow: whatever lies
// outside the subset below (whitespace, escapes, nesting, null, floats,
// unknown or repeated keys, a value of the wrong type, an int out of range)
// is not judged here but handed to encoding/json, which stays the one
// authority on what a record means. So a fast path can only ever agree with
// encoding/json or step aside; FuzzFastData and FuzzEnvelope check that.
//
// The subset: an object with no whitespace whose members are
//
//	"key":value
//
// where keys and string values hold no backslash, no control byte and only
// valid UTF-8 (so their bytes are their value: encoding/json would unquote
// them to the same string), and a value is such a string, an integer
// -?(0|[1-9][0-9]*), true, false or null. Every such object is valid JSON.

// jsonScalar is one member value of a flat object.
type jsonScalar struct {
	typ  byte   // '"' string, '0' integer, 't' true, 'f' false, 'n' null
	text []byte // a string's bytes without its quotes; an integer's literal
}

// eachMember calls fn for every member of the flat object b, in order. It
// returns false as soon as b leaves the subset or fn returns false, and
// true when b is a flat object fn took all of.
func eachMember(b []byte, fn func(key []byte, v jsonScalar) bool) bool {
	if len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' {
		return false
	}
	rest := b[1 : len(b)-1]
	if len(rest) == 0 {
		return true
	}
	for {
		key, r, ok := plainString(rest)
		if !ok || len(r) == 0 || r[0] != ':' {
			return false
		}
		v, r, ok := scalar(r[1:])
		if !ok || !fn(key, v) {
			return false
		}
		if len(r) == 0 {
			return true
		}
		if r[0] != ',' {
			return false
		}
		rest = r[1:]
	}
}

// plainString reads a string at the start of b that needs no unquoting and
// returns its bytes and what follows it.
func plainString(b []byte) (s, rest []byte, ok bool) {
	if len(b) == 0 || b[0] != '"' {
		return nil, nil, false
	}
	ascii := true
	for i := 1; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			s = b[1:i]
			// encoding/json turns invalid UTF-8 into U+FFFD: only valid
			// UTF-8 reads back as the very same bytes.
			if !ascii && !utf8.Valid(s) {
				return nil, nil, false
			}
			return s, b[i+1:], true
		case c == '\\' || c < 0x20:
			return nil, nil, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return nil, nil, false
}

// scalar reads a value of the subset at the start of b.
func scalar(b []byte) (v jsonScalar, rest []byte, ok bool) {
	if len(b) == 0 {
		return v, nil, false
	}
	switch c := b[0]; {
	case c == '"':
		s, rest, ok := plainString(b)
		return jsonScalar{'"', s}, rest, ok
	case c == '-' || c >= '0' && c <= '9':
		i := 0
		if c == '-' {
			i++
		}
		switch {
		case i < len(b) && b[i] == '0':
			i++ // JSON allows no leading zeros: "0" stands alone
		case i < len(b) && b[i] >= '1' && b[i] <= '9':
			for i < len(b) && b[i] >= '0' && b[i] <= '9' {
				i++
			}
		default:
			return v, nil, false
		}
		// A fraction or exponent leaves a byte here that eachMember refuses.
		return jsonScalar{'0', b[:i]}, b[i:], true
	}
	for _, lit := range [...]string{"true", "false", "null"} {
		if len(b) >= len(lit) && string(b[:len(lit)]) == lit {
			return jsonScalar{lit[0], nil}, b[len(lit):], true
		}
	}
	return v, nil, false
}

// validData reports whether b is valid JSON, trying the flat subset first:
// almost every record's Data is in it, and scanning it is several times
// cheaper than json.Valid.
func validData(b []byte) bool {
	return eachMember(b, func([]byte, jsonScalar) bool { return true }) || json.Valid(b)
}

func (v jsonScalar) str(dst *string) bool {
	if v.typ != '"' {
		return false
	}
	*dst = string(v.text)
	return true
}

// int64 refuses what does not fit, as encoding/json does (with an error the
// slow path reports).
func (v jsonScalar) int64(dst *int64) bool {
	if v.typ != '0' {
		return false
	}
	t := v.text
	neg := t[0] == '-'
	if neg {
		t = t[1:]
	}
	if len(t) > 19 { // 19 digits cannot overflow a uint64
		return false
	}
	var n uint64
	for _, c := range t {
		n = n*10 + uint64(c-'0')
	}
	switch {
	case neg && n <= 1<<63:
		*dst = -int64(n) // n == 1<<63 wraps to math.MinInt64, which is right
	case !neg && n <= 1<<63-1:
		*dst = int64(n)
	default:
		return false
	}
	return true
}

func (v jsonScalar) int(dst *int) bool {
	var n int64
	if !v.int64(&n) || int64(int(n)) != n {
		return false
	}
	*dst = int(n)
	return true
}

func (v jsonScalar) bool(dst *bool) bool {
	switch v.typ {
	case 't':
		*dst = true
	case 'f':
		*dst = false
	default:
		return false
	}
	return true
}

// fieldSet remembers which fields a flat object has set. encoding/json lets
// a repeated key win; the fast paths leave that oddity to it.
type fieldSet uint32

func (f *fieldSet) first(i uint) bool {
	if *f&(1<<i) != 0 {
		return false
	}
	*f |= 1 << i
	return true
}

// decodeData decodes r.Data into a T with fast, falling back to
// encoding/json (and its error) for anything fast does not take.
func decodeData[T any](r Record, fast func([]byte) (T, bool)) (T, error) {
	if d, ok := fast(r.Data); ok {
		return d, nil
	}
	var d T
	err := r.Decode(&d)
	return d, err
}

// The fast decoders of the hottest kinds follow; each takes exactly the
// keys of its struct's json tags, spelled as tagged (encoding/json would
// also match other cases of them: those go the slow way).

func fastSessionOpen(b []byte) (d SessionOpen, ok bool) {
	var seen fieldSet
	ok = eachMember(b, func(k []byte, v jsonScalar) bool {
		switch string(k) {
		case "card":
			return seen.first(0) && v.str(&d.Card)
		case "user_id":
			return seen.first(1) && v.int64(&d.UserID)
		case "username":
			return seen.first(2) && v.str(&d.Username)
		case "full_name":
			return seen.first(3) && v.str(&d.FullName)
		case "offline":
			return seen.first(4) && v.bool(&d.Offline)
		}
		return false
	})
	return d, ok
}

func fastCredit(b []byte) (d Credit, ok bool) {
	var seen fieldSet
	ok = eachMember(b, func(k []byte, v jsonScalar) bool {
		switch string(k) {
		case "device":
			return seen.first(0) && v.str(&d.Device)
		case "key":
			return seen.first(1) && v.str(&d.Key)
		case "amount":
			return seen.first(2) && v.int64(&d.Amount)
		case "counter":
			return seen.first(3) && v.int(&d.Counter)
		case "note_id":
			return seen.first(4) && v.str(&d.NoteID)
		}
		return false
	})
	return d, ok
}

func fastFinish(b []byte) (d Finish, ok bool) {
	var seen fieldSet
	ok = eachMember(b, func(k []byte, v jsonScalar) bool {
		switch string(k) {
		case "total":
			return seen.first(0) && v.int64(&d.Total)
		case "reference":
			return seen.first(1) && v.str(&d.Reference)
		case "user_id":
			return seen.first(2) && v.int64(&d.UserID)
		case "card":
			return seen.first(3) && v.str(&d.Card)
		case "full_name":
			return seen.first(4) && v.str(&d.FullName)
		case "reason":
			return seen.first(5) && v.str(&d.Reason)
		case "offline":
			return seen.first(6) && v.bool(&d.Offline)
		}
		return false
	})
	return d, ok
}

func fastPaymentCreated(b []byte) (d PaymentCreated, ok bool) {
	var seen fieldSet
	ok = eachMember(b, func(k []byte, v jsonScalar) bool {
		switch string(k) {
		case "payment_id":
			return seen.first(0) && v.str(&d.PaymentID)
		case "user_id":
			return seen.first(1) && v.int64(&d.UserID)
		}
		return false
	})
	return d, ok
}

func fastCommitted(b []byte) (d Committed, ok bool) {
	var seen fieldSet
	ok = eachMember(b, func(k []byte, v jsonScalar) bool {
		switch string(k) {
		case "payment_id":
			return seen.first(0) && v.str(&d.PaymentID)
		case "balance":
			var n int64
			if !seen.first(1) || !v.int64(&n) {
				return false
			}
			d.Balance = &n
			return true
		}
		return false
	})
	return d, ok
}
