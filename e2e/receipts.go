package e2e

import "strings"

// WaitCredited waits for the receipt of a top-up MyQ committed: the amount
// in big digits over "added to your account", and the receipt code; texts
// must be on screen too.
func (k *Kiosk) WaitCredited(minor int64, texts ...string) string {
	k.t.Helper()
	return k.WaitScreenFunc("credited "+Money(minor), func(s string) bool {
		return isCredited(s, minor) && containsAll(s, texts)
	})
}

// Credited is the screen condition of WaitCredited, for callers that time
// it (cmd/kioskbench).
func Credited(minor int64) func(string) bool {
	return func(s string) bool { return isCredited(s, minor) }
}

func isCredited(s string, minor int64) bool {
	return strings.Contains(s, "\n  added to your account") && strings.Contains(s, "Receipt code:") && HasBig(s, Money(minor))
}

func isSaved(s string, minor int64) bool {
	return strings.Contains(s, "saved: it will be added") && strings.Contains(s, "Receipt code:") && HasBig(s, Money(minor))
}

func containsAll(s string, texts []string) bool {
	for _, t := range texts {
		if !strings.Contains(s, t) {
			return false
		}
	}
	return true
}
