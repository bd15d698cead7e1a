package card

import (
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
)

// Chain is a parsed card-number transform: MyQ's ID card transformation
// commands applied left to right, with MyQ's meanings (print server 10.1,
// "ID card transformation commands"). The zero Chain passes numbers through
// unchanged.
type Chain struct {
	steps []step
}

type step struct {
	word string
	args []int
	pad  byte   // lpad, rpad
	text string // prepend, append
}

// maxArg bounds numeric arguments and prepend/append text so a typo like
// lpad(1000000000,0) in a config cannot make the kiosk allocate gigabytes
// per card.
const maxArg = 256

// argKind is what a word's arguments are.
type argKind int

const (
	argsNone   argKind = iota
	argsNumber         // (n)
	argsTwo            // (x,y)
	argsPad            // (n,symbol)
	argsText           // (string)
)

// wordInfo is one word of the vocabulary. ext marks words MyQ does not have:
// a chain using them cannot be copied into MyQ.
type wordInfo struct {
	kind argKind
	ext  bool
}

var words = map[string]wordInfo{
	"ltrim": {argsNumber, false}, "rtrim": {argsNumber, false},
	"prepend": {argsText, false}, "append": {argsText, false},
	"left": {argsNumber, false}, "right": {argsNumber, false},
	"mid": {argsTwo, false}, "lpad": {argsPad, false},
	"hex2dec": {argsNone, false}, "dec2hex": {argsNone, false},
	"hex2bin": {argsNone, false}, "bin2hex": {argsNone, false},
	"dec2bin": {argsNone, false}, "bin2dec": {argsNone, false},
	"reverse": {argsNone, false},
	// Extensions of the kiosk, not MyQ's.
	"upper": {argsNone, true}, "lower": {argsNone, true}, "rpad": {argsPad, true},
}

var knownWords = "ltrim(n), rtrim(n), prepend(s), append(s), left(n), right(n), mid(x,y), lpad(n,c), " +
	"hex2dec(), dec2hex(), hex2bin(), bin2hex(), dec2bin(), bin2dec(), reverse(); " +
	"kiosk extensions, not MyQ's: upper(), lower(), rpad(n,c)"

// Separator joins words in a chain. MyQ's own separator could not be
// confirmed from its documentation; the kiosk uses "|".
const Separator = "|"

// ParseChain parses words joined by "|", e.g. "right(8)|hex2dec()|lpad(10,0)".
// Words are case-insensitive; the no-argument words may be written with or
// without "()". An empty string is the identity chain.
func ParseChain(s string) (Chain, error) {
	var c Chain
	if strings.TrimSpace(s) == "" {
		return c, nil
	}
	for i, raw := range strings.Split(s, Separator) {
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
	info, ok := words[name]
	if !ok {
		return step{}, fmt.Errorf("unknown word; known: %s", knownWords)
	}
	st := step{word: name}
	if info.kind == argsText {
		// prepend(AB): the text is everything between the parentheses.
		t := strings.Trim(strings.TrimSpace(argText), `"'`)
		if !hasArgs || t == "" {
			return step{}, errors.New("takes 1 argument(s), got 0")
		}
		if len(t) > maxArg {
			return step{}, fmt.Errorf("text is longer than %d characters", maxArg)
		}
		for i := 0; i < len(t); i++ {
			if t[i] < 0x21 || t[i] > 0x7e || strings.IndexByte("(),|", t[i]) >= 0 {
				return step{}, fmt.Errorf("text %q: only printable ASCII without spaces, parentheses, commas or |", t)
			}
		}
		st.text = t
		return st, nil
	}
	var args []string
	if hasArgs && strings.TrimSpace(argText) != "" {
		args = strings.Split(argText, ",")
	}
	want := map[argKind]int{argsNone: 0, argsNumber: 1, argsTwo: 2, argsPad: 2}[info.kind]
	if len(args) != want {
		return step{}, fmt.Errorf("takes %d argument(s), got %d", want, len(args))
	}
	for i, a := range args {
		a = strings.TrimSpace(a)
		if info.kind == argsPad && i == 1 {
			a = strings.Trim(a, `"'`)
			if len(a) != 1 || a[0] < 0x21 || a[0] > 0x7e || a[0] == '|' {
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
	return st, nil
}

// String writes the chain back in canonical form, as MyQ writes it
// (lowercase, "()" after the no-argument words); ParseChain(c.String())
// gives an equal chain.
func (c Chain) String() string {
	parts := make([]string, len(c.steps))
	for i, st := range c.steps {
		parts[i] = st.String()
	}
	return strings.Join(parts, Separator)
}

func (st step) String() string {
	switch words[st.word].kind {
	case argsPad:
		return fmt.Sprintf("%s(%d,%c)", st.word, st.args[0], st.pad)
	case argsText:
		return fmt.Sprintf("%s(%s)", st.word, st.text)
	case argsNumber:
		return fmt.Sprintf("%s(%d)", st.word, st.args[0])
	case argsTwo:
		return fmt.Sprintf("%s(%d,%d)", st.word, st.args[0], st.args[1])
	}
	return st.word + "()"
}

// Empty reports whether the chain changes nothing.
func (c Chain) Empty() bool { return len(c.steps) == 0 }

// Uses reports whether the chain contains word (lowercase), e.g. "mid",
// whose meaning changed to MyQ's.
func (c Chain) Uses(word string) bool {
	for _, st := range c.steps {
		if st.word == word {
			return true
		}
	}
	return false
}

// Extensions lists the words of the chain that are not MyQ's.
func (c Chain) Extensions() []string {
	var out []string
	for _, st := range c.steps {
		if words[st.word].ext {
			out = append(out, st.word)
		}
	}
	return out
}

// Step is one word of a chain applied: the word in canonical form and the
// number it produced.
type Step struct {
	Word   string
	Result string
}

// Apply runs the chain on a raw card number. Card numbers are ASCII (the
// readers reject anything else), so positions count bytes.
func (c Chain) Apply(raw string) (string, error) {
	steps, err := c.Trace(raw)
	if err != nil {
		return "", err
	}
	if len(steps) == 0 {
		return raw, nil
	}
	return steps[len(steps)-1].Result, nil
}

// Trace runs the chain like Apply and returns every intermediate number, for
// a technician trying a chain against a card. The numbers are whole card
// numbers: never log them.
func (c Chain) Trace(raw string) ([]Step, error) {
	s := raw
	out := make([]Step, 0, len(c.steps))
	for i, st := range c.steps {
		next, err := st.apply(s)
		if err != nil {
			return out, &TransformError{Pos: i + 1, Word: st.word, Value: s, Reason: err.Error()}
		}
		s = next
		out = append(out, Step{Word: st.String(), Result: s})
	}
	return out, nil
}

// convert reads s in base from and writes it in base to (uppercase letters,
// no leading zeros), as MyQ's hex2dec, bin2hex and the like do.
func convert(s string, from, to int) (string, error) {
	names := map[int]string{2: "binary", 10: "decimal", 16: "hexadecimal"}
	if s == "" || strings.ContainsAny(s, "+-") {
		return "", fmt.Errorf("is not a %s number", names[from])
	}
	v, ok := new(big.Int).SetString(s, from)
	if !ok {
		return "", fmt.Errorf("is not a %s number", names[from])
	}
	return strings.ToUpper(v.Text(to)), nil
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
		// MyQ: remove X characters from the left and Y from the right.
		x, y := st.args[0], st.args[1]
		if x+y >= len(s) {
			return "", nil
		}
		return s[x : len(s)-y], nil
	case "ltrim":
		return s[min(n, len(s)):], nil
	case "rtrim":
		return s[:len(s)-min(n, len(s))], nil
	case "prepend":
		return st.text + s, nil
	case "append":
		return s + st.text, nil
	case "lpad":
		if len(s) >= n {
			return s, nil
		}
		return strings.Repeat(string(st.pad), n-len(s)) + s, nil
	case "rpad":
		if len(s) >= n {
			return s, nil
		}
		return s + strings.Repeat(string(st.pad), n-len(s)), nil
	case "hex2dec":
		return convert(s, 16, 10)
	case "dec2hex":
		return convert(s, 10, 16)
	case "hex2bin":
		return convert(s, 16, 2)
	case "bin2hex":
		return convert(s, 2, 16)
	case "dec2bin":
		return convert(s, 10, 2)
	case "bin2dec":
		return convert(s, 2, 10)
	case "reverse":
		// MyQ: reverse the order of the character pairs (bytes): 1234AB
		// becomes AB3412. MyQ does not say what it does with an odd length;
		// the kiosk reads it as a hex number missing its leading zero.
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
