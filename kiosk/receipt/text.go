package receipt

import (
	"crypto/hmac"
	"fmt"
	"strings"
	"time"
)

// The labelled form is what the receipt QR code holds, written for the
// person who scans it with a phone:
//
//	Receipt 12.50 EUR library-ground-floor/261123-221530-7f3a9c 2026-11-23T22:16:02Z ABCDEFGHIJKLMNOP
//
// label, amount (what the session put on the account: its cash and its
// vouchers, as the screen's headline says), currency, reference (<kiosk
// id>/<session id>), time in UTC,
// and the signature: HMAC-SHA256 over "VK2\n" and everything before the last
// space, truncated and encoded as in VK1. The kiosk id is the reference's
// prefix, not repeated: a real code of 99 bytes still fits a version-5 QR
// code at level L beside a text column on an 80x24 console.

// label starts every labelled code. Verify accepts it in any case (a code
// typed from a photo).
const label = "Receipt"

// textDomain keeps a VK1 signature from verifying a labelled code.
const textDomain = "VK2\n"

const textTime = "2006-01-02T15:04:05Z"

// SignText returns the labelled receipt code for a top-up. currency is the
// ISO code ("EUR"). A reference without the kiosk id prefix gets it.
func SignText(key []byte, kioskID, reference, currency string, amount int64, at time.Time) string {
	ref := cleanText(reference)
	if id := cleanText(kioskID); !strings.HasPrefix(ref, id+"/") {
		ref = id + "/" + ref
	}
	body := strings.Join([]string{label, FormatAmount(amount), cleanText(currency), ref, at.UTC().Format(textTime)}, " ")
	return body + " " + macEncoding.EncodeToString(mac(key, textDomain+body))
}

// IsText reports whether code is in the labelled form.
func IsText(code string) bool {
	f := strings.Fields(code)
	return len(f) > 0 && strings.EqualFold(f[0], label)
}

func verifyText(key []byte, code string) (Claim, error) {
	f := strings.Fields(code)
	if len(f) != 6 {
		return Claim{}, fmt.Errorf("receipt: %w: want 6 words (Receipt, amount, currency, reference, time, signature), got %d", ErrMalformed, len(f))
	}
	amount, err := ParseAmount(f[1])
	if err != nil {
		return Claim{}, &FieldError{Field: 2, Name: "amount", Err: err}
	}
	f[2] = strings.ToUpper(f[2]) // typed from a photo
	if len(f[2]) != 3 || strings.Trim(f[2], "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
		return Claim{}, &FieldError{Field: 3, Name: "currency", Err: fmt.Errorf("%q: want a three-letter ISO code", short(f[2]))}
	}
	kioskID, _, ok := strings.Cut(f[3], "/")
	if !ok || kioskID == "" || cleanText(f[3]) != f[3] {
		return Claim{}, &FieldError{Field: 4, Name: "reference", Err: fmt.Errorf("%q: want <kiosk id>/<session id>", short(f[3]))}
	}
	f[4] = strings.ToUpper(f[4])
	at, err := time.Parse(textTime, f[4])
	if err != nil {
		return Claim{}, &FieldError{Field: 5, Name: "time", Err: fmt.Errorf("%q: want e.g. 2026-11-23T22:16:02Z", short(f[4]))}
	}
	sigs := typedSignatures(f[5])
	if len(sigs) == 0 {
		return Claim{}, &FieldError{Field: 6, Name: "signature", Err: fmt.Errorf("want %d base32 characters", macEncoding.EncodedLen(macLen))}
	}
	body := strings.Join([]string{label, f[1], f[2], f[3], f[4]}, " ")
	want := mac(key, textDomain+body)
	genuine := false
	for _, got := range sigs {
		genuine = genuine || hmac.Equal(got, want)
	}
	if !genuine {
		return Claim{}, fmt.Errorf("receipt: %w", ErrBadSignature)
	}
	return Claim{KioskID: kioskID, Reference: f[3], Amount: amount, At: at, Currency: f[2]}, nil
}

// cleanText keeps a field one word: spaces and control characters become '_'.
func cleanText(s string) string {
	return strings.Map(func(r rune) rune {
		if r <= 0x20 || r == 0x7f || r == '|' {
			return '_'
		}
		return r
	}, s)
}

// typedSignatures decodes a signature as a person may have typed it from a
// photo: any case, 0 for O, and 1 for I or L (base32 has no 0 or 1). Each
// reading is tried; at most 16, so a typo cannot make a search of it.
func typedSignatures(s string) [][]byte {
	s = strings.ToUpper(strings.ReplaceAll(s, "0", "O"))
	readings := []string{s}
	for i := 0; i < len(s) && len(readings) <= 16; i++ {
		if s[i] != '1' {
			continue
		}
		var next []string
		for _, r := range readings {
			next = append(next, r[:i]+"I"+r[i+1:], r[:i]+"L"+r[i+1:])
		}
		readings = next
	}
	if len(readings) > 16 {
		return nil
	}
	var out [][]byte
	for _, r := range readings {
		b, err := macEncoding.DecodeString(r)
		if err == nil && len(b) == macLen && macEncoding.EncodeToString(b) == r {
			out = append(out, b)
		}
	}
	return out
}
