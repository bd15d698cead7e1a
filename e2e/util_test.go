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

// The big-font reader agrees with the UI's own golden screens.
func TestHasBigOnGoldenScreens(t *testing.T) {
	b, err := os.ReadFile("../kiosk/ui/testdata/session_80x24.txt")
	if err != nil {
		t.Skipf("golden screen not available: %v", err)
	}
	s := string(b)
	found := ""
	for _, cand := range []string{"€0.00", "€1.50", "€5.50", "€12.50", "€6.50", "€16.50"} {
		if HasBig(s, cand) {
			found = cand
		}
	}
	if found == "" {
		t.Fatalf("no total found in the golden session screen:\n%s", s)
	}
	t.Logf("golden session screen total: %s", found)
	if HasBig(s, "€1.00") || HasBig(s, "€0.10") {
		t.Fatal("a wrong total matched")
	}
	if HasBig(strings.ReplaceAll(s, "█", " "), found) {
		t.Fatal("matched a blank screen")
	}
}
