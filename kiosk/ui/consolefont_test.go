package ui

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestConsoleFontHasEveryRune: the console font the package sets
// (packaging/kioskd-console-font.conf) draws every character of every
// screen: a missing glyph is a box on tty1, and a missing half block breaks
// the QR code. The font's table is in testdata (read from the font file).
func TestConsoleFontHasEveryRune(t *testing.T) {
	f, err := os.Open("testdata/console_font_runes.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	have := map[rune]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		n, err := strconv.ParseUint(l, 16, 32)
		if err != nil {
			t.Fatalf("font table line %q: %v", l, err)
		}
		have[rune(n)] = true
	}
	if len(have) < 200 {
		t.Fatalf("font table has %d code points: not read right", len(have))
	}
	check := func(where, s string) {
		for _, r := range s {
			if !have[r] {
				t.Errorf("%s: %q (U+%04X) is not in the console font", where, r, r)
			}
		}
	}
	for lang, cat := range catalogs {
		for k, v := range cat {
			check(lang+" "+k, v)
		}
		for _, c := range []string{"EUR", "CZK", "CHF", "GBP", "USD"} {
			check(lang+" money", FormatMoney(lang, c, 123456789))
		}
	}
	for r, g := range bigFont {
		check("big font "+string(r), strings.Join(g[:], ""))
	}
	check("qr code", "▀▄█")
	check("screens", "[]·…")
}
