package card

import (
	"strings"
	"testing"
)

func feedAll(f framer, in string) (ids []string, bad int) {
	for i := 0; i < len(in); i++ {
		id, ok, b := f.feed(in[i])
		if b {
			bad++
		}
		if ok {
			ids = append(ids, id)
		}
	}
	return ids, bad
}

func rdm(body string) string { return "\x02" + body + "\x03" }

func TestRDMFramer(t *testing.T) {
	good := rdm("100086F44426")
	tests := []struct {
		name string
		in   string
		ids  int
		bad  int
	}{
		{"one frame", good, 1, 0},
		{"lower-case hex", rdm("100086f44426"), 1, 0},
		{"repeated", good + good + good, 3, 0},
		{"bad checksum", rdm("100086F44427"), 0, 1},
		{"garbage then frame", "\xff\xfe\x00junk" + good, 1, 1},
		{"cut short then frame", "\x02100086" + good, 1, 1},
		{"non-hex inside", rdm("10008ZF44426") + good, 1, 1},
		{"missing ETX", "\x02100086F44426X" + good, 1, 1},
		{"ETX alone", "\x03", 0, 1},
	}
	for _, tt := range tests {
		ids, bad := feedAll(&rdmFramer{}, tt.in)
		if len(ids) != tt.ids || bad != tt.bad {
			t.Errorf("%s: got %d ids %v and %d bad, want %d and %d", tt.name, len(ids), ids, bad, tt.ids, tt.bad)
		}
		for _, id := range ids {
			if id != "100086F444" {
				t.Errorf("%s: id %q", tt.name, id)
			}
		}
	}
}

// The reference reading from devices.md: 10 00 86 F4 44 is printed 0008844356.
func TestRDMPrintedNumber(t *testing.T) {
	ids, _ := feedAll(&rdmFramer{}, rdm("100086F44426"))
	c, err := ParseChain("right(8)|hex2dec|lpad(10,0)")
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Apply(ids[0])
	if err != nil || got != "0008844356" {
		t.Fatalf("printed number = %q, %v; want 0008844356", got, err)
	}
}

func TestLineFramer(t *testing.T) {
	tests := []struct {
		name string
		in   string
		ids  []string
		bad  int
	}{
		{"CRLF", "12345\r\n", []string{"12345"}, 0},
		{"LF", "12345\n67890\n", []string{"12345", "67890"}, 0},
		{"CR", "12345\r", []string{"12345"}, 0},
		{"spaces trimmed", "  ab 12 \r\n", []string{"ab 12"}, 0},
		{"blank lines", "\r\n\r\n\n", nil, 0},
		{"control byte", "12\x0145\r\nok\n", []string{"ok"}, 1},
		{"high byte", "12\xff45\n", nil, 1},
		{"64 is fine", strings.Repeat("1", 64) + "\n", []string{strings.Repeat("1", 64)}, 0},
		{"65 is too long", strings.Repeat("1", 65) + "\nok\n", []string{"ok"}, 1},
		{"very long", strings.Repeat("9", 1000) + "\r\nok\r\n", []string{"ok"}, 1},
		{"unterminated", "12345", nil, 0},
	}
	for _, tt := range tests {
		ids, bad := feedAll(&lineFramer{}, tt.in)
		if strings.Join(ids, ",") != strings.Join(tt.ids, ",") || bad != tt.bad {
			t.Errorf("%s: got %q bad %d, want %q bad %d", tt.name, ids, bad, tt.ids, tt.bad)
		}
	}
}

func FuzzRDMFramer(f *testing.F) {
	f.Add([]byte(rdm("100086F44426")))
	f.Add([]byte("\x02\x02\x03\x03garbage" + rdm("0000000000") + rdm("FFFFFFFFFF")))
	f.Fuzz(func(t *testing.T, in []byte) {
		ids, _ := feedAll(&rdmFramer{}, string(in))
		for _, id := range ids {
			if len(id) != 10 || strings.ToUpper(id) != id {
				t.Fatalf("bad id %q", id)
			}
			// What comes out must be what a real frame of it carries.
			if !strings.Contains(strings.ToUpper(string(in)), id) {
				t.Fatalf("id %q not in input", id)
			}
		}
	})
}

func FuzzLineFramer(f *testing.F) {
	f.Add([]byte("12345\r\n"))
	f.Add([]byte(strings.Repeat("x", 70) + "\n\x01\r\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		ids, _ := feedAll(&lineFramer{}, string(in))
		for _, id := range ids {
			if id == "" || len(id) > maxLine {
				t.Fatalf("bad line %q", id)
			}
			for i := 0; i < len(id); i++ {
				if id[i] < 0x20 || id[i] > 0x7e {
					t.Fatalf("non-printable in %q", id)
				}
			}
		}
	})
}

// ID-12LA and ID-20LA readers send the RDM6300 frame with CR LF before ETX:
// accepted (before, every read was a bad frame); a lone CR or LF is not.
func TestRDMFramerIDInnovations(t *testing.T) {
	for _, tc := range []struct {
		name   string
		in     string
		ids    int
		bad    int
		wantID string
	}{
		{"ID-12LA", "\x027C0055F8C415\r\n\x03", 1, 0, "7C0055F8C4"},
		{"ID-20LA repeated", "\x02100086F44426\r\n\x03\x02100086F44426\r\n\x03", 2, 0, "100086F444"},
		{"CR only", "\x02100086F44426\r\x03", 0, 1, ""},
		{"LF only", "\x02100086F44426\n\x03", 0, 1, ""},
		{"CR LF bad checksum", "\x02100086F44427\r\n\x03", 0, 1, ""},
	} {
		ids, bad := feedAll(&rdmFramer{}, tc.in)
		if len(ids) != tc.ids || bad != tc.bad || (tc.wantID != "" && ids[0] != tc.wantID) {
			t.Errorf("%s: ids %v bad %d, want %d ids (%s) and %d bad", tc.name, ids, bad, tc.ids, tc.wantID, tc.bad)
		}
	}
}
