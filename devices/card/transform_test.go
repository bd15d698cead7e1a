package card

import (
	"errors"
	"strings"
	"testing"
)

func TestChainApply(t *testing.T) {
	tests := []struct {
		chain, in, want string
	}{
		{"", "1000086F44", "1000086F44"},
		{"right(8)|hex2dec|lpad(10,0)", "100086F444", "0008844356"},
		{"left(4)", "ABCDEF", "ABCD"},
		{"left(10)", "ABC", "ABC"},
		{"right(2)", "ABCDEF", "EF"},
		// mid(X,Y) removes X characters from the left and Y from the right.
		{"mid(1,3)", "ABCDEF", "BC"},
		{"mid(0,0)", "ABCDEF", "ABCDEF"},
		{"mid(5,10)", "ABCDEF", ""},
		{"mid(3,3)", "ABCDEF", ""},
		{"prepend(00)|append('Z')", "AB", "00ABZ"},
		{"rpad(5,0)", "AB", "AB000"},
		{"hex2bin|bin2dec", "ff", "255"},
		{"ltrim(2)", "ABCDEF", "CDEF"},
		{"rtrim(2)", "ABCDEF", "ABCD"},
		{"rtrim(20)", "ABCDEF", ""},
		{"lpad(8,X)", "ABC", "XXXXXABC"},
		{"lpad(2,0)", "ABC", "ABC"},
		{"hex2dec", "FFFFFFFFFFFFFFFFFFFF", "1208925819614629174706175"},
		{"hex2dec", "00ff", "255"},
		{"dec2hex", "255", "FF"},
		{"dec2hex|lower", "48879", "beef"},
		{"reverse", "A1B2C3", "C3B2A1"},
		{"reverse", "ABC", "BC0A"},
		{"upper", "abc", "ABC"},
		{"HEX2DEC|LPAD(10,0)", "86F444", "0008844356"},
		{" right( 8 ) | hex2dec ", "100086F444", "8844356"},
	}
	for _, tt := range tests {
		c, err := ParseChain(tt.chain)
		if err != nil {
			t.Fatalf("ParseChain(%q): %v", tt.chain, err)
		}
		got, err := c.Apply(tt.in)
		if err != nil {
			t.Fatalf("%q.Apply(%q): %v", tt.chain, tt.in, err)
		}
		if got != tt.want {
			t.Errorf("%q.Apply(%q) = %q, want %q", tt.chain, tt.in, got, tt.want)
		}
	}
}

func mustDec(h string) string {
	c, _ := ParseChain("hex2dec")
	s, _ := c.Apply(h)
	return s
}

func TestParseChainErrors(t *testing.T) {
	tests := []struct{ chain, want string }{
		{"right(8)|hexdec", `word 2 "hexdec": unknown word; known: ltrim(n)`},
		{"prepend()", `takes 1 argument(s), got 0`},
		{"append", `takes 1 argument(s), got 0`},
		{"append(a,b)", `only printable ASCII without`},
		{"bin2dec(1)", `takes 0 argument(s), got 1`},
		{"left", `word 1 "left": takes 1 argument(s), got 0`},
		{"left(a)", `word 1 "left(a)": argument "a" must be a whole number`},
		{"left(-1)", `must be a whole number`},
		{"lpad(10,00)", `pad character "00" must be one printable character`},
		{"left(3", `missing closing parenthesis`},
		{"hex2dec(2)", `takes 0 argument(s), got 1`},
		{"left(1)||right(1)", `word 2 "": unknown word`},
		{"lpad(100000,0)", `must be a whole number 0..256`},
	}
	for _, tt := range tests {
		_, err := ParseChain(tt.chain)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseChain(%q) = %v, want error containing %q", tt.chain, err, tt.want)
		}
	}
}

func TestApplyErrors(t *testing.T) {
	for _, tt := range []struct{ chain, in string }{
		{"hex2dec", "12G4"}, {"hex2dec", ""}, {"hex2dec", "-12"}, {"dec2hex", "12A"}, {"dec2hex", "+1"},
	} {
		c, _ := ParseChain(tt.chain)
		_, err := c.Apply(tt.in)
		var te *TransformError
		if !errors.As(err, &te) || te.Pos != 1 {
			t.Errorf("%q.Apply(%q) = %v, want a TransformError at word 1", tt.chain, tt.in, err)
		}
	}
}

func TestChainStringRoundTrip(t *testing.T) {
	for _, s := range []string{"right(8)|hex2dec|lpad(10,0)", "mid(2,4)|reverse|upper", "LTRIM(1)|RTRIM(1)|dec2hex|lower"} {
		c, err := ParseChain(s)
		if err != nil {
			t.Fatal(err)
		}
		c2, err := ParseChain(c.String())
		if err != nil || c2.String() != c.String() || !strings.EqualFold(strings.ReplaceAll(c.String(), "()", ""), s) {
			t.Errorf("round trip %q -> %q -> %v %v", s, c.String(), c2.String(), err)
		}
	}
}

func FuzzChain(f *testing.F) {
	f.Add("right(8)|hex2dec|lpad(10,0)", "100086F444")
	f.Add("mid(2,3)|reverse|dec2hex", "12345")
	f.Add("lpad(256,x)|hex2dec", "")
	f.Add("left(1)|", "\x00")
	f.Add("prepend(AB)|hex2bin()|bin2hex|dec2bin", "1000AB")
	f.Fuzz(func(t *testing.T, chain, in string) {
		c, err := ParseChain(chain)
		if err != nil {
			return
		}
		c2, err := ParseChain(c.String())
		if err != nil {
			t.Fatalf("canonical form %q of %q does not parse: %v", c.String(), chain, err)
		}
		a, errA := c.Apply(in)
		b, errB := c2.Apply(in)
		if a != b || (errA == nil) != (errB == nil) {
			t.Fatalf("chain and its canonical form disagree: %q/%v vs %q/%v", a, errA, b, errB)
		}
	})
}
