package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// MaxAmount bounds every amount in the config (minor units): 100000.00. A
// kiosk value above it is a typo, not a coin.
const MaxAmount int64 = 100_000_00

// ParseAmount turns what a technician wrote for an amount into exact minor
// units. TOML hands a float64 for 0.50; its shortest decimal form is exactly
// what was typed, so the float is printed back and parsed as a decimal
// string: no float arithmetic ever touches the money. Strings ("0.50") and
// whole numbers (50) are accepted too. The error says what is wrong in plain
// words; the caller adds the key and an example.
func ParseAmount(v any) (int64, error) {
	switch x := v.(type) {
	case int64:
		if x < 0 {
			return 0, fmt.Errorf("%d is negative", x)
		}
		if x > MaxAmount/100 {
			return 0, fmt.Errorf("%d is more than the largest amount the kiosk takes (%s)", x, FormatAmount(MaxAmount))
		}
		return x * 100, nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return 0, fmt.Errorf("%v is not an amount", x)
		}
		return parseDecimal(strconv.FormatFloat(x, 'f', -1, 64))
	case string:
		n, err := parseDecimal(strings.TrimSpace(x))
		if err != nil {
			return 0, err
		}
		return n, nil
	}
	return 0, fmt.Errorf("%s is not an amount", describe(v))
}

func parseDecimal(s string) (int64, error) {
	if strings.HasPrefix(s, "-") {
		if _, err := parseDecimal(s[1:]); err == nil {
			return 0, fmt.Errorf("%s is negative", s)
		}
	}
	whole, frac, dot := strings.Cut(s, ".")
	if whole == "" || !allDigits(whole) || (dot && (frac == "" || !allDigits(frac))) {
		return 0, fmt.Errorf("%q is not an amount", s)
	}
	if len(frac) > 2 {
		return 0, fmt.Errorf("%s has more than 2 decimals", s)
	}
	whole = strings.TrimLeft(whole, "0")
	if len(whole) > 9 {
		return 0, fmt.Errorf("%s is more than the largest amount the kiosk takes (%s)", s, FormatAmount(MaxAmount))
	}
	for len(frac) < 2 {
		frac += "0"
	}
	var n int64
	for _, c := range whole + frac {
		n = n*10 + int64(c-'0')
	}
	if n > MaxAmount {
		return 0, fmt.Errorf("%s is more than the largest amount the kiosk takes (%s)", s, FormatAmount(MaxAmount))
	}
	return n, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// FormatAmount writes minor units as the config writes them: 50 → "0.50".
func FormatAmount(n int64) string {
	sign := ""
	if n < 0 {
		sign = "-"
		n = -n
	}
	return fmt.Sprintf("%s%d.%02d", sign, n/100, n%100)
}

// parseDuration reads a duration string ("20s") within [min, max].
func parseDuration(v any, min, max time.Duration) (time.Duration, error) {
	switch x := v.(type) {
	case string:
		d, err := time.ParseDuration(strings.TrimSpace(x))
		if err != nil {
			return 0, fmt.Errorf("%q is not a duration", x)
		}
		if d <= 0 {
			return 0, fmt.Errorf("%q must be more than zero", x)
		}
		if d < min || d > max {
			return 0, fmt.Errorf("%q is outside %s..%s", x, min, max)
		}
		return d, nil
	case int64, float64:
		return 0, fmt.Errorf("%v is a number without a unit", x)
	}
	return 0, fmt.Errorf("%s is not a duration", describe(v))
}

// describe shows a decoded TOML value the way it was probably written.
func describe(v any) string {
	switch x := v.(type) {
	case string:
		return strconv.Quote(x)
	case bool, int64, float64:
		return fmt.Sprint(x)
	case []any:
		return "a list"
	case map[string]any:
		return "a table"
	case time.Time:
		return "a date"
	}
	return fmt.Sprintf("%v", v)
}
