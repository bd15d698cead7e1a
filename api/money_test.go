package api

import (
	"encoding/json"
	"errors"
	"testing"
	"unicode/utf8"
)

func TestParseMoney(t *testing.T) {
	cases := []struct {
		in   string
		want Money
		ok   bool
	}{
		{"13", 1300, true},
		{"13.5", 1350, true},
		{"13.50", 1350, true},
		{"0.05", 5, true},
		{"0", 0, true},
		{"1000000", 100000000, true},
		{"1000000.00", 100000000, true},
		{"1000000.01", 0, false},
		{"99999999999999999999999", 0, false},
		{"13.505", 0, false},
		{"13.500", 0, false},
		{"-1", 0, false},
		{"+1", 0, false},
		{"1e3", 0, false},
		{"1E3", 0, false},
		{"13.", 0, false},
		{".5", 0, false},
		{"", 0, false},
		{" 13", 0, false},
		{"1,5", 0, false},
		{"0x10", 0, false},
		{"١٣", 0, false},
	}
	for _, c := range cases {
		got, err := ParseMoney(c.in)
		if c.ok != (err == nil) || got != c.want {
			t.Errorf("ParseMoney(%q) = %d, %v; want %d ok=%v", c.in, got, err, c.want, c.ok)
		}
		if err != nil && !errors.Is(err, ErrMoney) {
			t.Errorf("ParseMoney(%q) error %v does not wrap ErrMoney", c.in, err)
		}
	}
}

func TestMoneyString(t *testing.T) {
	for m, want := range map[Money]string{0: "0.00", 5: "0.05", 1350: "13.50", 1300: "13.00", -150: "-1.50", -5: "-0.05"} {
		if got := m.String(); got != want {
			t.Errorf("Money(%d).String() = %q, want %q", int64(m), got, want)
		}
	}
}

func TestMoneyJSON(t *testing.T) {
	b, err := json.Marshal(struct {
		A Money `json:"amount"`
	}{1350})
	if err != nil || string(b) != `{"amount":13.50}` {
		t.Fatalf("marshal = %s, %v", b, err)
	}
	cases := []struct {
		in   string
		want Money
		ok   bool
	}{
		{`13`, 1300, true},
		{`13.5`, 1350, true},
		{`"13.50"`, 1350, true},
		{`" 2.5 "`, 250, true},
		{`13.555`, 0, false},
		{`-1`, 0, false},
		{`1e2`, 0, false},
		{`1.3E1`, 0, false},
		{`null`, 0, false},
		{`true`, 0, false},
		{`"abc"`, 0, false},
		{`[]`, 0, false},
		{`{}`, 0, false},
		{`1000000.01`, 0, false},
	}
	for _, c := range cases {
		var m Money
		err := json.Unmarshal([]byte(c.in), &m)
		if c.ok != (err == nil) || m != c.want {
			t.Errorf("Unmarshal(%s) = %d, %v; want %d ok=%v", c.in, m, err, c.want, c.ok)
		}
	}
}

func TestParseState(t *testing.T) {
	cases := []struct {
		word  string
		want  PaymentState
		known bool
	}{
		{"created", StateOpen, true},
		{"COMMITTED", StateCommitted, true},
		{"Commit", StateUnknown, false},
		{"commit_failed", StateUnknown, false},
		{"committing", StateUnknown, false},
		{"COMMITTED_OK", StateUnknown, false},
		{"rolledback", StateRolledBack, true},
		{"rolled_back", StateRolledBack, true},
		{"Cancelled", StateRolledBack, true},
		{"expired", StateRolledBack, true},
		{"uncommitted", StateOpen, true},
		{"not_committed", StateOpen, true},
		{"", StateOpen, true},
		{"weird", StateUnknown, false},
	}
	for _, c := range cases {
		s, known := ParseState(c.word)
		if s != c.want || known != c.known {
			t.Errorf("ParseState(%q) = %v,%v; want %v,%v", c.word, s, known, c.want, c.known)
		}
	}
}

func FuzzMoney(f *testing.F) {
	for _, s := range []string{"13", "13.5", "13.50", "0.05", "-1", "1e3", "1000000.00", "1000000.01", "", ".", "00.10", `"1.5"`, "null"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMoney(s)
		if err == nil {
			if m < 0 || m > MaxMoney {
				t.Fatalf("ParseMoney(%q) = %d out of range", s, m)
			}
			back, err := ParseMoney(m.String())
			if err != nil || back != m {
				t.Fatalf("round trip %q -> %s -> %d, %v", s, m, back, err)
			}
			b, _ := json.Marshal(m)
			var j Money
			if err := json.Unmarshal(b, &j); err != nil || j != m {
				t.Fatalf("json round trip %q -> %s -> %d, %v", s, b, j, err)
			}
		}
		var j Money
		if err := j.UnmarshalJSON([]byte(s)); err == nil && (j < 0 || j > MaxMoney) {
			t.Fatalf("UnmarshalJSON(%q) = %d out of range", s, j)
		}
	})
}

func FuzzDecoders(f *testing.F) {
	seeds := []string{
		`{"users":[{"id":1176,"username":"jdoe","fullname":"Jane Doe","email":"j@x","lang":"en"}],"count":1}`,
		`{"users":[{"id":"1176"}],"count":1}`,
		`{"users":[],"count":0}`,
		`{"payments":[{"id":"12532","userId":1176,"amount":13,"currency":null,"state":"committed","created":"2024-01-02T03:04:05Z","updated":"2024-01-02 03:04:05","expires":null,"paymentNo":"1","provider":"x","description":"K-1"}],"count":1}`,
		`{"payments":[{"id":12532,"userId":"1176","amount":"13.50"}]}`,
		`{"id":"12532","userId":1176,"amount":13,"description":"d","params":{"amount":13}}`,
		`{"id":12532,"params":{"amount":2.5}}`,
		`{"credit":{"enabled":true},"accounts":[{"name":"c","reference":"internalaccount","type":1,"limits":{"price":-12.3456}}]}`,
		`{"providers":[{"name":"External","reference":"external","description":"","params":[]}],"count":1}`,
		`{"amount":13}`, ``, `null`, `[]`, `{"payments":null}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if us, err := DecodeUsers(b); err == nil {
			for _, u := range us {
				if u.ID <= 0 {
					t.Fatalf("user id %d accepted", u.ID)
				}
			}
		}
		if ps, err := DecodePayments(b); err == nil {
			for _, p := range ps {
				if p.ID == "" || p.Amount < 0 || p.Amount > MaxMoney {
					t.Fatalf("bad payment accepted: %+v", p)
				}
			}
		}
		if p, err := DecodePayment(b); err == nil && (p.ID == "" || p.Amount < 0) {
			t.Fatalf("bad payment accepted: %+v", p)
		}
		if m, ok := DecodeBalance(b); ok && (m > MaxMoney || m < -MaxMoney) {
			t.Fatalf("balance %d out of range", m)
		}
		DecodeProviders(b)
		if m, _, err := DecodeCommit(b); err == nil && (m < 0 || m > MaxMoney) {
			t.Fatalf("commit amount %d out of range", m)
		}
	})
}

func TestCleanMessage(t *testing.T) {
	if got := cleanMessage("\x1b[2Jbad\nthing\x00"); got != "bad thing" {
		t.Errorf("cleanMessage = %q", got)
	}
	long := ""
	for len(long) < 400 {
		long += "é"
	}
	got := cleanMessage(long)
	if len(got) > 304 || !utf8.ValidString(got) {
		t.Errorf("long message cut badly: %d bytes, valid=%v", len(got), utf8.ValidString(got))
	}
}

func TestErrorString(t *testing.T) {
	e := &Error{Op: "create payment", Status: 400, Code: 1001, Message: "Invalid operation"}
	if got := e.Error(); got != "myq create payment: HTTP 400 (code 1001): Invalid operation" {
		t.Errorf("Error() = %q", got)
	}
	e = &Error{Op: "token", Status: 200, Err: ErrResponseTooLarge}
	if got := e.Error(); got != "myq token: response larger than 1 MiB" || !errors.Is(e, ErrResponseTooLarge) {
		t.Errorf("Error() = %q", got)
	}
}
