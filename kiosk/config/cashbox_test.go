package config

import (
	"strings"
	"testing"
)

func TestCashboxCapacity(t *testing.T) {
	c := mustParse(t, strings.Replace(base, `protocol = "essp"`, "protocol = \"essp\"\ncashbox_capacity = 600\ncashbox_near_full = 90", 1))
	coins, notes := c.Acceptors[0], c.Acceptors[1]
	if coins.CashboxCapacity != 0 || coins.CashboxNearFull != DefaultCashboxNearFull {
		t.Errorf("coins without a capacity: %d pieces, near full %d%%", coins.CashboxCapacity, coins.CashboxNearFull)
	}
	if notes.CashboxCapacity != 600 || notes.CashboxNearFull != 90 {
		t.Errorf("notes: capacity %d, near full %d%%; want 600, 90%%", notes.CashboxCapacity, notes.CashboxNearFull)
	}
	c = mustParse(t, strings.Replace(base, `protocol = "essp"`, "protocol = \"essp\"\ncashbox_capacity = 600", 1))
	if c.Acceptors[1].CashboxNearFull != 95 {
		t.Errorf("default near full = %d%%, want 95%%", c.Acceptors[1].CashboxNearFull)
	}

	for _, tc := range []struct{ add, want string }{
		{"cashbox_capacity = 0", "[[acceptor]] \"notes\" cashbox_capacity: 0 is not a number of pieces"},
		{"cashbox_capacity = \"lots\"", "cashbox_capacity: \"lots\" is not a whole number"},
		{"cashbox_capacity = 500\ncashbox_near_full = 120", "cashbox_near_full: 120 is not a percentage between 50 and 100"},
		{"cashbox_near_full = 90", "cashbox_near_full: has no effect without cashbox_capacity"},
	} {
		_, err := Parse([]byte(strings.Replace(base, `protocol = "essp"`, "protocol = \"essp\"\n"+tc.add, 1)), "kioskd.toml")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want it to say %q", tc.add, err, tc.want)
		}
	}
}
