package card

import (
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
)

// Chain is a parsed card-number transform: MyQ's transformation words applied
// left to right. The zero Chain passes numbers through unchanged.
type Chain struct {
	steps []step
}

type step struct {
	word string
	args []int
	pad  byte // lpad only
}

// maxArg bounds numeric arguments so a typo like lpad(1000000000,0) in a
// config cannot make the kiosk allocate gigabytes per card.
const maxArg = 256

// wordArity is the vocabulary and how many arguments each word takes
// (lpad's second argument is a character, not a number).
var wordArity = map[string]int{
	"left": 1, "right": 1, "mid": 2, "ltrim": 1, "rtrim": 1, "lpad": 2,
	"hex2dec": 0, "dec2hex": 0, "reverse": 0, "upper": 0, "lower": 0,
}

var knownWords = "left(n), right(n), mid(start,len), ltrim(n), rtrim(n), lpad(n,c), hex2dec, dec2hex, reverse, upper, lower"

// ParseChain parses words joined by "|", e.g. "right(8)|hex2dec|lpad(10,0)".
// Words are case-insensitive (MyQ writes them in capitals). An empty string is
// the identity chain.
func ParseChain(s string) (Chain, error) {
	var c Chain
	if strings.TrimSpace(s) == "" {
		return c, nil
	}
	for i, raw := range strings.Split(s, "|") {
		st, err := parseWord(strings.TrimSpace(raw))
		if err != nil {
			return Chain{}, fmt.Errorf("card transform: word %d %q: %w", i+1, strings.TrimSpace(raw), err)
		}
		c.steps = append(c.steps, st)
	}
	return c, nil
}

func parseWord(w string) (step, error) {
	name, argText, hasArgs := w, "", false
	if i := strings.IndexByte(w, '('); i >= 0 {
		if !strings.HasSuffix(w, ")") {
			return step{}, errors.New("missing closing parenthesis")
		}
		name, argText, hasArgs = strings.TrimSpace(w[:i]), w[i+1:len(w)-1], true
	}
	name = strings.ToLower(name)
	arity, ok := wordArity[name]
	if !ok {
		return step{}, fmt.Errorf("unknown word; known: %s", knownWords)
	}
	var args []string
	if hasArgs && strings.TrimSpace(argText) != "" {
		args = strings.Split(argText, ",")
	}
	if len(args) != arity {
		return step{}, fmt.Errorf("takes %d argument(s), got %d", arity, len(args))
	}
	st := step{word: name}
	for i, a := range args {
		a = strings.TrimSpace(a)
		if name == "lpad" && i == 1 {
			a = strings.Trim(a, `"'`)
			if len(a) != 1 || a[0] < 0x21 || a[0] > 0x7e {
				return step{}, fmt.Errorf("pad character %q must be one printable character", a)
			}
			st.pad = a[0]
			continue
		}
		n, err := strconv.Atoi(a)
		if err != nil || n < 0 || n > maxArg {
			return step{}, fmt.Errorf("argument %q must be a whole number 0..%d", a, maxArg)
		}
		st.args = append(st.args, n)
	}
	if name == "mid" && st.args[0] < 1 {
		return step{}, errors.New("mid start counts from 1")
	}
	return st, nil
}

// String writes the chain back in canonical form; ParseChain(c.String())
// gives an equal chain.
func (c Chain) String() string {
	parts := make([]string, len(c.steps))
	for i, st := range c.steps {
		switch {
		case st.word == "lpad":
			parts[i] = fmt.Sprintf("lpad(%d,%c)", st.args[0], st.pad)
		case len(st.args) == 1:
			parts[i] = fmt.Sprintf("%s(%d)", st.word, st.args[0])
		case len(st.args) == 2:
			parts[i] = fmt.Sprintf("%s(%d,%d)", st.word, st.args[0], st.args[1])
		default:
			parts[i] = st.word
		}
	}
	return strings.Join(parts, "|")
}

// Empty reports whether the chain changes nothing.
func (c Chain) Empty() bool { return len(c.steps) == 0 }

// Apply runs the chain on a raw card number. Card numbers are ASCII (the
// readers reject anything else), so positions count bytes.
func (c Chain) Apply(raw string) (string, error) {
	s := raw
	for i, st := range c.steps {
		next, err := st.apply(s)
		if err != nil {
			return "", &TransformError{Pos: i + 1, Word: st.word, Value: s, Reason: err.Error()}
		}
		s = next
	}
	return s, nil
}

func (st step) apply(s string) (string, error) {
	n := 0
	if len(st.args) > 0 {
		n = st.args[0]
	}
	switch st.word {
	case "left":
		return s[:min(n, len(s))], nil
	case "right":
		return s[len(s)-min(n, len(s)):], nil
	case "mid":
		start := st.args[0] - 1
		if start >= len(s) {
			return "", nil
		}
		return s[start:min(start+st.args[1], len(s))], nil
	case "ltrim":
		return s[min(n, len(s)):], nil
	case "rtrim":
		return s[:len(s)-min(n, len(s))], nil
	case "lpad":
		if len(s) >= n {
			return s, nil
		}
		return strings.Repeat(string(st.pad), n-len(s)) + s, nil
	case "hex2dec":
		v, ok := new(big.Int).SetString(s, 16)
		if !ok || s == "" || strings.ContainsAny(s, "+-_xX") {
			return "", errors.New("is not a hexadecimal number")
		}
		return v.Text(10), nil
	case "dec2hex":
		v, ok := new(big.Int).SetString(s, 10)
		if !ok || s == "" || strings.ContainsAny(s, "+-_") {
			return "", errors.New("is not a decimal number")
		}
		return strings.ToUpper(v.Text(16)), nil
	case "reverse":
		// Byte-pair reversal: "A1B2C3" -> "C3B2A1". An odd length is read as
		// a hex number with its leading zero left out.
		if len(s)%2 == 1 {
			s = "0" + s
		}
		b := make([]byte, 0, len(s))
		for i := len(s) - 2; i >= 0; i -= 2 {
			b = append(b, s[i], s[i+1])
		}
		return string(b), nil
	case "upper":
		return strings.ToUpper(s), nil
	case "lower":
		return strings.ToLower(s), nil
	}
	return "", errors.New("unknown word")
}

// TransformError is a card number the chain cannot handle. Value is the
// intermediate number: callers that log it must mask it.
type TransformError struct {
	Pos    int    // 1-based position of the word in the chain
	Word   string // the word, e.g. "hex2dec"
	Value  string
	Reason string
}

func (e *TransformError) Error() string {
	return fmt.Sprintf("card transform: word %d %s: %q %s", e.Pos, e.Word, e.Value, e.Reason)
}
