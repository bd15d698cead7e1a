package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/printroom/voucherkiosk/api/myqfake"
	"github.com/printroom/voucherkiosk/kiosk/control"
	"github.com/printroom/voucherkiosk/kiosk/journal"
)

func TestCashboxKeepsVouchersApart(t *testing.T) {
	var b bytes.Buffer
	printCash(&b, control.Cash{Currency: "EUR", Totals: journal.CashTotals{Accepted: 250, Committed: 250},
		Vouchers: &journal.VoucherTotals{Count: 2, Committed: 1000, Owed: 500}})
	out := b.String()
	if !strings.Contains(out, "vouchers (not cash)   2 redeemed, 10.00 EUR committed in MyQ, 5.00 EUR confirmed, commit pending") {
		t.Errorf("no voucher line:\n%s", out)
	}
	if !strings.Contains(out, "accepted              2.50 EUR") {
		t.Errorf("vouchers leaked into the cash:\n%s", out)
	}
}

func TestAPICheckVoucherPath(t *testing.T) {
	fake := myqfake.NewDemo(myqfake.Options{})
	srv, err := fake.Start(true)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ca, err := srv.WriteCAFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cfg := apiCheckConfig(t, srv.URL, ca, myqfake.DemoClientSecret)
	b, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, append(b, []byte("[voucher]\nenabled = true\n")...), 0o600)
	check := func() (int, string) {
		var out bytes.Buffer
		code := run(context.Background(), &env{stdout: &out, stderr: &out}, []string{"api-check", "--config", cfg, "--card", "0008844356"})
		return code, out.String()
	}
	fake.SetVoucherV3("")
	code, out := check()
	if code != 0 || !strings.Contains(out, "vouchers go through v2") || !strings.Contains(out, "a made-up code is refused") {
		t.Fatalf("v2: exit %d\n%s", code, out)
	}
	fake.SetVoucherV3("code")
	if code, out := check(); code != 0 || !strings.Contains(out, `vouchers go through v3 provider "voucher", code param "code"`) {
		t.Fatalf("v3: exit %d\n%s", code, out)
	}
	// api = "v3" where MyQ has no voucher provider.
	fake.SetVoucherV3("")
	b, _ = os.ReadFile(cfg)
	os.WriteFile(cfg, append(b, []byte("api = \"v3\"\ncode_param = \"code\"\n")...), 0o600)
	if code, out := check(); code != 1 || !strings.Contains(out, "no such voucher endpoint") {
		t.Fatalf("no endpoint: exit %d\n%s", code, out)
	}
	if len(fake.Ledger()) != 0 {
		t.Error("api-check moved money")
	}
}
