package ui

import (
	"sort"
	"strings"
	"testing"

	"github.com/mattn/go-runewidth"
)

func TestCatalogsHaveSameKeys(t *testing.T) {
	en := catalogs["en"]
	for lang, cat := range catalogs {
		for k := range en {
			if _, ok := cat[k]; !ok {
				t.Errorf("catalog %s lacks key %q", lang, k)
			}
		}
		for k, v := range cat {
			if _, ok := en[k]; !ok {
				t.Errorf("catalog %s has extra key %q", lang, k)
			}
			if strings.Count(v, "%") != strings.Count(en[k], "%") {
				t.Errorf("catalog %s key %q: %q has other format verbs than %q", lang, k, v, en[k])
			}
		}
	}
	var langs []string
	for l := range catalogs {
		langs = append(langs, l)
	}
	sort.Strings(langs)
	if strings.Join(langs, ",") != "cs,de,en" {
		t.Errorf("languages %v", langs)
	}
}

func TestFormatMoney(t *testing.T) {
	cases := []struct {
		lang, cur string
		minor     int64
		want      string
	}{
		{"en", "EUR", 1250, "€12.50"},
		{"en", "CZK", 1250, "12.50 CZK"},
		{"en", "USD", 5, "$0.05"},
		{"en", "EUR", 123456789, "€1,234,567.89"},
		{"en", "EUR", -150, "-€1.50"},
		{"cs", "CZK", 1250, "12,50 Kč"},
		{"cs", "EUR", 1250, "12,50 €"},
		{"cs", "CZK", 123456, "1\u00a0234,56 Kč"},
		{"de", "EUR", 1250, "12,50 €"},
		{"de", "EUR", 123456, "1.234,56 €"},
		{"de", "CZK", 0, "0,00 CZK"},
		{"xx", "EUR", 100, "€1.00"},
		{"en", "EUR", -9223372036854775808, "-€92,233,720,368,547,758.08"},
	}
	for _, c := range cases {
		if got := FormatMoney(c.lang, c.cur, c.minor); got != c.want {
			t.Errorf("FormatMoney(%s, %s, %d) = %q, want %q", c.lang, c.cur, c.minor, got, c.want)
		}
	}
}

func TestBigFontGlyphs(t *testing.T) {
	for r, g := range bigFont {
		w := runewidth.StringWidth(g[0])
		for i, row := range g {
			if runewidth.StringWidth(row) != w {
				t.Errorf("glyph %q row %d is %d wide, want %d", r, i, runewidth.StringWidth(row), w)
			}
			if strings.Trim(row, " █▀▄") != "" {
				t.Errorf("glyph %q row %d uses characters other than blocks", r, i)
			}
		}
	}
	for _, s := range []string{"0123456789", "€12.50", "12,50 Kč"} {
		if bigWidth(s, 1) <= len([]rune(s)) {
			t.Errorf("bigWidth(%q) = %d", s, bigWidth(s, 1))
		}
	}
}

func TestWrapAndCodeLines(t *testing.T) {
	for _, l := range wrap("The kiosk is offline: your money is counted and the credit will follow automatically.", 20) {
		if width(l) > 20 {
			t.Errorf("line %q longer than 20", l)
		}
	}
	code := "Receipt 12.50 EUR library-ground-floor/261123-221530-7f3a9c 2026-11-23T22:16:02Z WPSTERW6SABB446P"
	lines := wrap(code, 30)
	if strings.ReplaceAll(strings.Join(lines, ""), " ", "") != strings.ReplaceAll(code, " ", "") {
		t.Errorf("wrapped code %q does not rejoin", lines)
	}
	for _, l := range lines {
		if width(l) > 30 {
			t.Errorf("code line %q longer than 30", l)
		}
		if strings.HasSuffix(l, "22") {
			t.Errorf("code line %q: a long word breaks after '/' or '-', not mid-token", l)
		}
	}
}
