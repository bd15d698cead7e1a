package voucherlink_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/printroom/voucherkiosk/api"
	"github.com/printroom/voucherkiosk/api/myqfake"
	"github.com/printroom/voucherkiosk/devices"
	"github.com/printroom/voucherkiosk/kiosk"
	"github.com/printroom/voucherkiosk/kiosk/booking"
	"github.com/printroom/voucherkiosk/kiosk/journal"
	"github.com/printroom/voucherkiosk/kiosk/voucherlink"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestEngineAndBookingRedeemAVoucher drives one voucher through the real
// engine, the real journal and booking against the fake over TLS: the way
// a test mixes vouchers into its histories (hand each voucher command to
// Service, feed each OnResult back to Handle through Result).
func TestEngineAndBookingRedeemAVoucher(t *testing.T) {
	fake := myqfake.NewDemo(myqfake.Options{})
	run, err := fake.Start(true)
	if err != nil {
		t.Fatal(err)
	}
	defer run.Close()
	ca, err := run.WriteCAFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	client, err := api.New(api.Config{URL: run.URL, ClientID: myqfake.DemoClientID, ClientSecret: myqfake.DemoClientSecret, CAFile: ca, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer client.CloseIdleConnections()
	j, err := journal.Open(journal.Options{Dir: t.TempDir(), CompactAfter: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()

	results := make(chan booking.VoucherResult, 8)
	v, err := booking.NewVouchers(booking.VoucherConfig{Client: client, Journal: j,
		OnResult: func(r booking.VoucherResult) { results <- r }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- v.Run(ctx) }()
	defer func() { cancel(); <-done }()
	svc := voucherlink.Service(v)

	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	n := 0
	e := kiosk.NewEngine(kiosk.Config{KioskID: "lib", Currency: "EUR", MaxTopup: 5000, Accepted: []int64{100},
		Voucher: kiosk.VoucherRules{Enabled: true}}, j, now, func() string { n++; return fmt.Sprint(n) })
	// handle runs the engine and carries its voucher commands to booking,
	// then feeds booking's answer back.
	var handle func(ev any)
	handle = func(ev any) {
		now = now.Add(time.Second)
		for _, c := range e.Handle(ev, now) {
			switch c := c.(type) {
			case kiosk.LookupCard:
				u := kiosk.User{ID: 1176, Username: "jdoe", FullName: "Jane Doe"}
				handle(kiosk.LookupResult{SessionID: c.SessionID, Card: c.Card, User: &u})
			case kiosk.RedeemVoucher:
				svc.Redeem(c)
				handle(voucherlink.Result(<-results))
			case kiosk.CommitVoucher:
				svc.Commit(c.Reference)
				handle(voucherlink.Result(<-results))
			case kiosk.CancelVoucher:
				svc.Cancel(c.Reference, c.PaymentID)
			}
		}
	}
	handle(devices.CardRead{Device: "card", Number: "0008844356"})
	handle(kiosk.VoucherCode{Code: myqfake.DemoVoucherCode, Source: "scanner"})
	if st := e.State(); st.Voucher == nil || st.Voucher.Step != kiosk.VoucherOffer || st.Voucher.Amount != 500 {
		t.Fatalf("offer: %+v", st.Voucher)
	}
	before := fake.Balance(1176)
	handle(kiosk.KeyPress{Key: kiosk.KeyEnter})
	if st := e.State(); st.Voucher.Step != kiosk.VoucherAdded || st.Voucher.Pending {
		t.Fatalf("added: %+v", st.Voucher)
	}
	if got := fake.Balance(1176) - before; got != 500 {
		t.Errorf("balance moved %s", got)
	}
	handle(kiosk.KeyPress{Key: kiosk.KeyMore}) // hides the message (Enter would finish the session)
	handle(kiosk.VoucherCode{Code: myqfake.DemoUsedVoucherCode, Source: "keyboard"})
	if st := e.State(); st.Voucher.Step != kiosk.VoucherRejected || st.Voucher.Reason != kiosk.VoucherUsed {
		t.Errorf("used: %+v", st.Voucher)
	}
	if err := fake.Check(); err != nil {
		t.Error(err)
	}
	if l := j.Ledger(); l.Vouchers().Committed != 500 || len(l.OpenVouchers()) != 0 {
		t.Errorf("journal: %+v, open %v", l.Vouchers(), l.OpenVouchers())
	}
}
