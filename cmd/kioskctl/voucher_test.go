package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/printroom/voucherkiosk/api"
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

func TestFakeMyQPrintsRedeemableVouchers(t *testing.T) {
	ca := filepath.Join(t.TempDir(), "ca.pem")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, &env{stdout: out, stderr: io.Discard, stdin: strings.NewReader("")},
			[]string{"fake-myq", "--listen", "127.0.0.1:0", "--tls", "--ca-out", ca})
	}()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "Ctrl-C") {
		if time.Now().After(deadline) {
			t.Fatalf("no output:\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	s := out.String()
	for _, c := range append(myqfake.DemoVouchers.Valid, myqfake.DemoVouchers.Used) {
		if !strings.Contains(s, c) {
			t.Errorf("code %s not printed:\n%s", c, s)
		}
	}
	url := strings.TrimSpace(strings.SplitN(strings.SplitN(s, "serving at ", 2)[1], "\n", 2)[0])
	c, err := api.New(api.Config{URL: url, ClientID: myqfake.DemoClientID, ClientSecret: myqfake.DemoClientSecret, CAFile: ca})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	rt := api.VoucherRoute{Form: api.VoucherV2, Provider: "voucher"}
	p, err := c.CreateVoucherPayment(ctx, rt, api.User{ID: 1176, Username: "jdoe"}, myqfake.DemoVouchers.Valid[0], "test")
	if err != nil || p.Amount != 500 {
		t.Errorf("printed voucher does not redeem: %+v %v", p, err)
	}
	if _, err := c.CreateVoucherPayment(ctx, rt, api.User{ID: 1176, Username: "jdoe"}, myqfake.DemoVouchers.Used, "test"); !api.IsVoucherUsed(err) {
		t.Errorf("used voucher: %v", err)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit code %d", code)
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
	code, out := check()
	if code != 0 || !strings.Contains(out, "vouchers go through v2") || !strings.Contains(out, "a made-up code is refused") {
		t.Fatalf("v2: exit %d\n%s", code, out)
	}
	fake.SetVoucherProvider(true, "", "", false)
	if code, out := check(); code != 0 || !strings.Contains(out, `vouchers go through v3 provider "voucher", code param "code"`) {
		t.Fatalf("v3: exit %d\n%s", code, out)
	}
	fake.SetVoucherProvider(false, "", "", false)
	fake.SetVoucherV2(false)
	if code, out := check(); code != 1 || !strings.Contains(out, "no such voucher endpoint") {
		t.Fatalf("no endpoint: exit %d\n%s", code, out)
	}
	if len(fake.Ledger()) != 0 {
		t.Error("api-check moved money")
	}
}
