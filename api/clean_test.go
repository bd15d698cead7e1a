package api

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestCleanText(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"Jane Doe", "Jane Doe"},
		{"Petr Novák", "Petr Novák"},
		{"\x1b[31mred\x1b[0m", "red"},
		{"title\x1b]0;owned\x07 set", "title set"},
		{"title\x1b]2;owned\x1b\\ set", "title set"},
		{"dcs\x1bPq#0;2;0;0;0\x1b\\ end", "dcs end"},
		{"c1\u009b2Jcsi", "c1csi"},
		{"line\r\nnext\tcol", "line  next col"},
		{"bidi\u202eevil\u202c", "bidievil"},
		{"zero\u200bwidth", "zerowidth"},
		{"\x00\x01\x7f", ""},
		{"bad \xff utf8", "bad ? utf8"},
		{"esc at end\x1b", "esc at end"},
		{"\x1b[", ""},
	} {
		if got := cleanText(tt.in, maxName); got != tt.want {
			t.Errorf("cleanText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	long := strings.Repeat("é", 300)
	if got := cleanText(long, maxName); len(got) > maxName+len("…") || !utf8.ValidString(got) || !strings.HasSuffix(got, "…") {
		t.Errorf("long name cut badly: %d bytes %q", len(got), got)
	}
}

// A user decoded from MyQ carries no control characters, whatever MyQ sent.
func TestDecodeUsersCleans(t *testing.T) {
	us, err := DecodeUsers([]byte(`{"users":[{"id":7,"username":"x\u001b[2J","fullname":"Eve\u001b]0;t\u0007 Smith\n","email":"e@x\u0000"}],"count":1}`))
	if err != nil || len(us) != 1 {
		t.Fatal(us, err)
	}
	if u := us[0]; u.Username != "x" || u.FullName != "Eve Smith" || u.Email != "e@x" {
		t.Errorf("decoded %+v", u)
	}
}

func FuzzCleanText(f *testing.F) {
	for _, s := range []string{"Jane Doe", "\x1b[31mred", "\x1b]0;t\x07", "\u202e", "\x9b1m", "é\xff", strings.Repeat("ab", 200)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := cleanText(in, maxName)
		if !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 %q", out)
		}
		if len(out) > maxName+len("…") {
			t.Fatalf("%d bytes, bound %d", len(out), maxName)
		}
		for _, r := range out {
			if unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r) {
				t.Fatalf("control or format character %U left in %q", r, out)
			}
		}
		if out != strings.TrimSpace(out) {
			t.Fatalf("untrimmed %q", out)
		}
		if len(out) <= maxName && cleanText(out, maxName) != out {
			t.Fatalf("not idempotent: %q -> %q", out, cleanText(out, maxName))
		}
		if isPlain(in) && len(in) <= maxName && out != in {
			t.Fatalf("plain text changed: %q -> %q", in, out)
		}
	})
}
