package receipt

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var testKey = []byte("0123456789abcdef0123456789abcdef")

func TestSignVerifyRoundTrip(t *testing.T) {
	at := time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)
	cases := []struct {
		kiosk, ref string
		amount     int64
		wantAmount string
	}{
		{"library-ground-floor", "library-ground-floor/000123", 1350, "13.50"},
		{"k", "k/1", 5, "0.05"},
		{"k", "k/2", 0, "0.00"},
		{"lib", "lib/20250314-0001", 5000, "50.00"},
		{"big", "big/1", 9223372036854775807, "92233720368547758.07"},
	}
	for _, c := range cases {
		code := Sign(testKey, c.kiosk, c.ref, c.amount, at)
		if !strings.Contains(code, "|"+c.wantAmount+"|") {
			t.Errorf("code %q: want amount field %q", code, c.wantAmount)
		}
		got, err := Verify(testKey, code)
		if err != nil {
			t.Fatalf("Verify(%q): %v", code, err)
		}
		want := Claim{KioskID: c.kiosk, Reference: c.ref, Amount: c.amount, At: at}
		if got != want {
			t.Errorf("Verify(%q) = %+v, want %+v", code, got, want)
		}
	}
}

func TestCodeShape(t *testing.T) {
	code := Sign(testKey, "lib", "lib/7", 1250, time.Unix(1700000000, 0))
	parts := strings.Split(code, "|")
	if len(parts) != 6 || parts[0] != "VK1" || parts[3] != "12.50" || parts[4] != "1700000000" || len(parts[5]) != 16 {
		t.Fatalf("code %q has the wrong shape", code)
	}
	if strings.ContainsAny(parts[5], "=abcdefghijklmnopqrstuvwxyz") {
		t.Errorf("signature %q: want upper-case base32 without padding", parts[5])
	}
}

func TestVerifyRejectsTampering(t *testing.T) {
	at := time.Unix(1700000000, 0)
	code := Sign(testKey, "lib", "lib/000123", 1350, at)
	parts := strings.Split(code, "|")
	with := func(i int, v string) string {
		p := append([]string(nil), parts...)
		p[i] = v
		return strings.Join(p, "|")
	}
	cases := []struct {
		name    string
		code    string
		key     []byte
		wantErr error
		field   int
	}{
		{"amount raised", with(3, "93.50"), testKey, ErrBadSignature, 0},
		{"amount extra zero", with(3, "135.00"), testKey, ErrBadSignature, 0},
		{"reference changed", with(2, "lib/000124"), testKey, ErrBadSignature, 0},
		{"kiosk changed", with(1, "lab"), testKey, ErrBadSignature, 0},
		{"time changed", with(4, "1700000001"), testKey, ErrBadSignature, 0},
		{"signature flipped", with(5, "A"+parts[5][1:]), testKey, ErrBadSignature, 0},
		{"wrong key", code, []byte("another key another key another!"), ErrBadSignature, 0},
		{"amount with comma", with(3, "13,50"), testKey, ErrMalformed, 4},
		{"amount one decimal", with(3, "13.5"), testKey, ErrMalformed, 4},
		{"amount negative", with(3, "-13.50"), testKey, ErrMalformed, 4},
		{"amount plus", with(3, "+13.50"), testKey, ErrMalformed, 4},
		{"amount leading zero", with(3, "013.50"), testKey, ErrMalformed, 4},
		{"amount overflow", with(3, "99999999999999999999.00"), testKey, ErrMalformed, 4},
		{"time letters", with(4, "17e8"), testKey, ErrMalformed, 5},
		{"time negative", with(4, "-1"), testKey, ErrMalformed, 5},
		{"signature short", with(5, parts[5][:12]), testKey, ErrMalformed, 6},
		{"signature lower case", with(5, strings.ToLower(parts[5])), testKey, ErrMalformed, 6},
		{"version", with(0, "VK2"), testKey, ErrMalformed, 1},
		{"empty kiosk", with(1, ""), testKey, ErrMalformed, 2},
		{"too few fields", strings.Join(parts[:5], "|"), testKey, ErrMalformed, 0},
		{"too many fields", code + "|x", testKey, ErrMalformed, 0},
		{"empty", "", testKey, ErrMalformed, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Verify(c.key, c.code)
			if !errors.Is(err, c.wantErr) {
				t.Fatalf("Verify(%q) = %v, want %v", c.code, err, c.wantErr)
			}
			if c.field != 0 {
				var fe *FieldError
				if !errors.As(err, &fe) || fe.Field != c.field {
					t.Fatalf("Verify(%q) = %v, want malformed field %d", c.code, err, c.field)
				}
				if !strings.Contains(err.Error(), "malformed field") {
					t.Errorf("error %q does not say which field", err)
				}
			}
		})
	}
}

func TestSignCleansSeparators(t *testing.T) {
	code := Sign(testKey, "a|b", "r\nx", 100, time.Unix(1, 0))
	c, err := Verify(testKey, code)
	if err != nil {
		t.Fatal(err)
	}
	if c.KioskID != "a_b" || c.Reference != "r_x" {
		t.Errorf("claim %+v: want separators replaced", c)
	}
}

func TestVerifyTrimsSpace(t *testing.T) {
	code := Sign(testKey, "lib", "lib/1", 100, time.Unix(1700000000, 0))
	if _, err := Verify(testKey, "  "+code+"\n"); err != nil {
		t.Errorf("a code with surrounding blanks (as typed or scanned): %v", err)
	}
}

func TestParseAmount(t *testing.T) {
	good := map[string]int64{"0.00": 0, "0.05": 5, "13.50": 1350, "1000.01": 100001}
	for s, want := range good {
		if got, err := ParseAmount(s); err != nil || got != want {
			t.Errorf("ParseAmount(%q) = %d, %v; want %d", s, got, err, want)
		}
		if FormatAmount(want) != s {
			t.Errorf("FormatAmount(%d) = %q, want %q", want, FormatAmount(want), s)
		}
	}
	for _, s := range []string{"", ".", "1.", ".50", "1.5", "1.500", "1e2.00", "00.10", " 1.00", "1.0a", "１.00"} {
		if _, err := ParseAmount(s); err == nil {
			t.Errorf("ParseAmount(%q): want an error", s)
		}
	}
	if FormatAmount(-1350) != "-13.50" {
		t.Errorf("FormatAmount(-1350) = %q", FormatAmount(-1350))
	}
}

func TestLoadOrCreateKey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "etc", "kioskd", "receipt.key")
	k1, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(k1) != KeySize {
		t.Fatalf("key has %d bytes, want %d", len(k1), KeySize)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %04o, want 0600", st.Mode().Perm())
	}
	k2, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(k1) != string(k2) {
		t.Error("second load made a new key: old receipts would no longer verify")
	}

	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateKey(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("group-readable key: got %v, want a refusal", err)
	}
	if err := os.Chmod(path, 0o604); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateKey(path); err == nil {
		t.Error("world-readable key accepted")
	}

	short := filepath.Join(dir, "short.key")
	if err := os.WriteFile(short, []byte("tiny"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateKey(short); err == nil {
		t.Error("a 4-byte key accepted")
	}
}

func FuzzVerify(f *testing.F) {
	f.Add(Sign(testKey, "lib", "lib/000123", 1350, time.Unix(1700000000, 0)))
	f.Add("VK1|a|b|0.00|0|AAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Add("VK1|||||")
	f.Add("VK1|a|b|99999999999999999999.99|99999999999|A")
	f.Add("")
	f.Fuzz(func(t *testing.T, code string) {
		c, err := Verify(testKey, code)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrBadSignature) {
				t.Fatalf("Verify(%q): unclassified error %v", code, err)
			}
			return
		}
		// A code that verifies must re-sign to itself: nothing in it is
		// ambiguous.
		if again := Sign(testKey, c.KioskID, c.Reference, c.Amount, c.At); again != strings.TrimSpace(code) {
			t.Fatalf("Verify(%q) accepted, but re-signing gives %q", code, again)
		}
	})
}

func BenchmarkVerify(b *testing.B) {
	code := Sign(testKey, "library-ground-floor", "library-ground-floor/000123", 1350, time.Unix(1700000000, 0))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Verify(testKey, code); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(code)), "code-bytes")
}

func TestLabelledRoundTrip(t *testing.T) {
	at := time.Date(2026, 11, 23, 22, 16, 2, 0, time.UTC)
	code := SignText(testKey, "library-ground-floor", "library-ground-floor/261123-221530-7f3a9c", "EUR", 1250, at)
	want := "Receipt 12.50 EUR library-ground-floor/261123-221530-7f3a9c 2026-11-23T22:16:02Z "
	if !strings.HasPrefix(code, want) || len(code) != len(want)+16 {
		t.Fatalf("code %q, want %q and a 16-character signature", code, want)
	}
	if len(code) > 106 { // version-5 QR code at level L, byte mode
		t.Errorf("a real code is %d bytes: it no longer fits the 80x24 screen's QR code", len(code))
	}
	got, err := Verify(testKey, "  "+code+"\n")
	if err != nil {
		t.Fatal(err)
	}
	wantClaim := Claim{KioskID: "library-ground-floor", Reference: "library-ground-floor/261123-221530-7f3a9c", Amount: 1250, At: at, Currency: "EUR"}
	if got != wantClaim {
		t.Errorf("claim %+v, want %+v", got, wantClaim)
	}
	// Every changed word breaks the signature or the form.
	for i, w := range strings.Fields(code)[1:5] {
		alt := map[int]string{0: "12.60", 1: "USD", 2: "library-ground-floor/261123-221530-7f3a9d", 3: "2026-11-23T22:16:03Z"}[i]
		bad := strings.Replace(code, w, alt, 1)
		if _, err := Verify(testKey, bad); !errors.Is(err, ErrBadSignature) {
			t.Errorf("changed %q to %q: err %v, want bad signature", w, alt, err)
		}
	}
	// A VK1 signature does not carry over to the labelled form.
	vk1 := Sign(testKey, "library-ground-floor", "library-ground-floor/261123-221530-7f3a9c", 1250, at)
	forged := code[:strings.LastIndexByte(code, ' ')+1] + vk1[strings.LastIndexByte(vk1, '|')+1:]
	if _, err := Verify(testKey, forged); !errors.Is(err, ErrBadSignature) {
		t.Errorf("VK1 signature on a labelled code: %v", err)
	}
	// A reference without the kiosk id gets it, so the claim names the kiosk.
	c, err := Verify(testKey, SignText(testKey, "lib", "7", "CZK", 5, at))
	if err != nil || c.KioskID != "lib" || c.Reference != "lib/7" {
		t.Errorf("claim %+v, %v", c, err)
	}
	for _, bad := range []string{"Receipt 12.50 EUR", "Receipt 12,50 EUR a/1 2026-11-23T22:16:02Z AAAAAAAAAAAAAAAA",
		"Receipt 12.50 EUR a1 2026-11-23T22:16:02Z AAAAAAAAAAAAAAAA",
		"Receipt 12.50 EU a/1 2026-11-23T22:16:02Z AAAAAAAAAAAAAAAA", "Receipt 12.50 EUR a/1 yesterday AAAAAAAAAAAAAAAA", "Receipt 12.50 EUR a/1 2026-11-23T22:16:02Z AAAA"} {
		if _, err := Verify(testKey, bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("Verify(%q) = %v, want malformed", bad, err)
		}
	}
}

func TestLabelledTypedFromAPhoto(t *testing.T) {
	at := time.Date(2026, 11, 23, 22, 16, 2, 0, time.UTC)
	var code string
	// A signature with an O, an I and an L in it, so the typos below mean something.
	for i := 0; i < 5000; i++ {
		c := SignText(testKey, "lib", fmt.Sprintf("lib/%d", i), "EUR", 1250, at)
		sig := c[strings.LastIndexByte(c, ' ')+1:]
		if strings.ContainsRune(sig, 'O') && strings.ContainsRune(sig, 'I') && strings.ContainsRune(sig, 'L') {
			code = c
			break
		}
	}
	if code == "" {
		t.Fatal("no signature with O, I and L in 5000 codes")
	}
	i := strings.LastIndexByte(code, ' ')
	sig := code[i+1:]
	typed := strings.ToLower(code[:i]) // "receipt 12.50 eur lib/..."
	typed += " " + strings.ToLower(strings.NewReplacer("O", "0", "I", "1", "L", "1").Replace(sig))
	c, err := Verify(testKey, typed)
	if err != nil {
		t.Fatalf("Verify(%q) typed from %q: %v", typed, code, err)
	}
	if c.Amount != 1250 || c.Currency != "EUR" {
		t.Errorf("claim %+v", c)
	}
	// A wrong character is still a bad signature, not a lucky match.
	bad := []byte(typed)
	if bad[len(bad)-1] == 'a' {
		bad[len(bad)-1] = 'b'
	} else {
		bad[len(bad)-1] = 'a'
	}
	if _, err := Verify(testKey, string(bad)); !errors.Is(err, ErrBadSignature) && !errors.Is(err, ErrMalformed) {
		t.Errorf("a typo verified: %v", err)
	}
}
