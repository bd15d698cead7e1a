package main

import (
	"strings"
	"testing"

	"github.com/printroom/voucherkiosk/kiosk/control"
	"github.com/printroom/voucherkiosk/kiosk/journal"
)

func TestCashboxShowsFillLevel(t *testing.T) {
	var out strings.Builder
	printCash(&out, control.Cash{Currency: "EUR", Totals: journal.CashTotals{Accepted: 143000, Committed: 143000},
		Fill: []control.CashboxFill{
			{Acceptor: "coins", Pieces: 12}, // no capacity configured: no fill line
			{Acceptor: "notes", Pieces: 286, Capacity: 300, Percent: 95, NearFull: true},
			{Acceptor: "cctalk-coins", Pieces: 100, Capacity: 1000, Percent: 10},
		}})
	got := out.String()
	for _, want := range []string{
		"cash box notes: 286 of 300 pieces (95%), NEAR FULL: empty it, then kioskctl cashup\n",
		"cash box cctalk-coins: 100 of 1000 pieces (10%)\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("kioskctl cashbox lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "cash box coins") {
		t.Errorf("a fill level for an acceptor with no capacity:\n%s", got)
	}
}
