package main

import (
	"fmt"
	"io"

	"github.com/printroom/voucherkiosk/kiosk/control"
)

// printVouchers adds the voucher line: vouchers are not cash, so they are
// neither in the box nor in "accepted".
func printVouchers(w io.Writer, cash control.Cash) {
	v := cash.Vouchers
	if v == nil {
		return
	}
	fmt.Fprintf(w, "vouchers (not cash)\t%d redeemed, %s committed in MyQ", v.Count, money(v.Committed, cash.Currency))
	if v.Owed > 0 {
		fmt.Fprintf(w, ", %s confirmed, commit pending", money(v.Owed, cash.Currency))
	}
	fmt.Fprintln(w)
}
