package api

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Bounds on the strings MyQ sends, in bytes.
const (
	maxName = 200 // usernames, full names, e-mail addresses, provider names
	maxText = 300 // messages, descriptions, state words, scopes
)

// cleanText makes a string from MyQ safe to log and to print on a terminal
// or the kiosk screen: valid UTF-8, terminal escape sequences removed whole
// (ESC [ … final, ESC ] … BEL or ST, and their one-byte C1 forms), other
// control characters turned into spaces, invisible format characters (bidi
// overrides, zero-width) dropped, surrounding space trimmed, and at most max
// bytes, cut at a character boundary with "…".
func cleanText(s string, max int) string {
	if isPlain(s) && len(s) <= max {
		return s
	}
	s = strings.ToValidUTF8(s, "?")
	var b strings.Builder
	b.Grow(min(len(s), max+8))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == 0x1b && i < len(s):
			i = skipEscape(s, i)
		case r == 0x9b: // C1 CSI
			i = skipCSI(s, i)
		case r == 0x9d || r == 0x90 || r == 0x98 || r == 0x9e || r == 0x9f: // C1 OSC, DCS, SOS, PM, APC
			i = skipString(s, i)
		case unicode.Is(unicode.Cc, r):
			b.WriteByte(' ')
		case unicode.Is(unicode.Cf, r):
			// dropped
		default:
			b.WriteRune(r)
		}
		if b.Len() > max+8 {
			break
		}
	}
	out := strings.TrimSpace(b.String())
	if len(out) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(out[cut]) {
			cut--
		}
		out = strings.TrimSpace(out[:cut]) + "…"
	}
	return out
}

// isPlain: printable ASCII only, nothing to clean.
func isPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return strings.TrimSpace(s) == s
}

// skipEscape skips what follows an ESC at s[i:].
func skipEscape(s string, i int) int {
	switch s[i] {
	case '[':
		return skipCSI(s, i+1)
	case ']', 'P', 'X', '^', '_':
		return skipString(s, i+1)
	}
	_, size := utf8.DecodeRuneInString(s[i:])
	return i + size
}

// skipCSI skips parameter and intermediate bytes up to and including the
// final byte (0x40–0x7e).
func skipCSI(s string, i int) int {
	for i < len(s) {
		c := s[i]
		if c < 0x20 || c >= 0x7f {
			return i // not a CSI byte: the sequence is broken; read on from here
		}
		i++
		if c >= 0x40 {
			return i
		}
	}
	return i
}

// skipString skips a control string up to BEL or ST (ESC \ or 0x9c).
func skipString(s string, i int) int {
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == 0x07 || r == 0x9c:
			return i
		case r == 0x1b:
			if i < len(s) && s[i] == '\\' {
				return i + 1
			}
			return i
		}
	}
	return i
}

// cleanMessage cleans a server's error message (cleanText, maxText).
func cleanMessage(m string) string { return cleanText(m, maxText) }
