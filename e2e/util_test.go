package e2e

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

func contextWithTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}

// The big-font reader agrees with the UI's own golden screens, at every
// scale the UI draws (80x24 and 120x40 sessions, the receipt's headline).
func TestHasBigOnGoldenScreens(t *testing.T) {
	for _, name := range []string{"session_en_80x24.txt", "session_en_120x40.txt", "credited_en_80x24.txt", "credited_en_120x40.txt"} {
		b, err := os.ReadFile("../kiosk/ui/testdata/" + name)
		if err != nil {
			t.Fatalf("golden screen: %v", err)
		}
		s := string(b)
		if !HasBig(s, "€12.50") {
			t.Errorf("%s: the total €12.50 not found:\n%s", name, s)
		}
		if HasBig(s, "€1.00") || HasBig(s, "€0.10") || HasBig(s, "€2.50") {
			t.Errorf("%s: a wrong total matched", name)
		}
		if HasBig(strings.ReplaceAll(s, "█", " "), "€12.50") {
			t.Errorf("%s: matched a blank screen", name)
		}
	}
}
