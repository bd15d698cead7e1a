package config

import (
	"strings"
	"testing"
	"time"
)

func TestReceiptHoldAndHighContrast(t *testing.T) {
	c := mustParse(t, base)
	if c.Kiosk.ReceiptHold != 30*time.Second || c.Kiosk.HighContrast {
		t.Errorf("defaults: receipt_hold %v high_contrast %v, want 30s and false", c.Kiosk.ReceiptHold, c.Kiosk.HighContrast)
	}
	c = mustParse(t, strings.Replace(base, `currency = "EUR"`, "currency = \"EUR\"\nreceipt_hold = \"45s\"\nhigh_contrast = true", 1))
	if c.Kiosk.ReceiptHold != 45*time.Second || !c.Kiosk.HighContrast {
		t.Errorf("receipt_hold %v high_contrast %v, want 45s and true", c.Kiosk.ReceiptHold, c.Kiosk.HighContrast)
	}
	for _, bad := range []string{`receipt_hold = "1s"`, `receipt_hold = 30`, `high_contrast = "yes"`} {
		_, err := Parse([]byte(strings.Replace(base, `currency = "EUR"`, "currency = \"EUR\"\n"+bad, 1)), "kioskd.toml")
		key := bad[:strings.IndexByte(bad, ' ')]
		if err == nil || !strings.Contains(err.Error(), "[kiosk] "+key) {
			t.Errorf("%s: err %v, want a problem naming [kiosk] %s", bad, err, key)
		}
	}
}
