package main

import (
	"context"
	"errors"
	"time"

	"github.com/printroom/voucherkiosk/api"
	"github.com/printroom/voucherkiosk/devices/card"
	"github.com/printroom/voucherkiosk/kiosk/config"
)

// apiCheckCode is a code no voucher batch has: MyQ must refuse it, which
// shows the voucher endpoint answers and the kiosk may use it, without
// creating a payment.
const apiCheckCode = "KIOSKCTL-API-CHECK-0000"

// checkVoucherPath checks the voucher path when [voucher] is enabled: which
// API form MyQ offers, and that a redeem of a code no batch has is refused
// as a voucher refusal (not a missing endpoint, right or setting).
func checkVoucherPath(ctx context.Context, cfg *config.Config, client *api.Client, cardNo string, raw bool,
	ok func(string, ...any), skip func(string, ...any), bad func(string, string, ...any)) {
	if !cfg.Voucher.Enabled {
		skip("vouchers ([voucher] enabled = false)")
		return
	}
	form, err := api.ParseVoucherAPI(cfg.Voucher.API)
	if err != nil {
		bad(`write [voucher] api = "auto", "v3" or "v2"`, "%v", err)
		return
	}
	timeout := cfg.MyQ.RequestTimeout + 5*time.Second
	rctx, cancel := context.WithTimeout(ctx, timeout)
	rt, err := client.ResolveVoucher(rctx, form, cfg.Voucher.Provider, cfg.Voucher.CodeParam)
	cancel()
	if err != nil {
		bad("see the error; the acting user needs the right Manage payments", "voucher provider list: %v", err)
		return
	}
	ok("vouchers go through %s", rt)
	if cardNo == "" {
		skip("voucher redeem (give --card NUMBER: the test asks MyQ to refuse a made-up code for that user)")
		return
	}
	number := cardNo
	if raw {
		chain, err := card.ParseChain(cfg.CardReader.Transform)
		if err == nil {
			number, err = chain.Apply(number)
		}
		if err != nil {
			bad("fix the card transform", "card transform: %v", err)
			return
		}
	}
	lctx, cancel := context.WithTimeout(ctx, timeout)
	u, err := client.FindUserByCard(lctx, number)
	cancel()
	if err != nil {
		skip("voucher redeem (the card's user is needed: %v)", err)
		return
	}
	vctx, cancel := context.WithTimeout(ctx, timeout)
	p, err := client.CreateVoucherPayment(vctx, rt, u, apiCheckCode, "kioskctl api-check")
	cancel()
	switch {
	case err == nil:
		// A code that should not exist was accepted: roll it back at once.
		rctx, cancel := context.WithTimeout(ctx, timeout)
		client.RollbackVoucherPayment(rctx, rt, p.ID)
		cancel()
		bad("delete the voucher "+apiCheckCode+" in MyQ (Voucher Batches)", "MyQ accepted the made-up code %s (payment %s rolled back)", apiCheckCode, p.ID)
	case api.IsVoucherRefused(err):
		ok("voucher redeem answers: a made-up code is refused (%q)", api.VoucherMessage(err))
	case api.IsForbidden(err):
		bad("give the REST API application's acting user the right Manage payments (and Manage vouchers "+
			"where MyQ asks for it) and the scope credit", "voucher redeem refused: %v", err)
	case api.IsProviderDisabled(err):
		bad("in MyQ's web UI: Settings > Credit: enable Vouchers (and External Payment Providers)", "voucher redeem: %v", err)
	case api.IsNotFound(err):
		fix := `this MyQ has no such voucher endpoint: set [voucher] api = "v3" (and provider) or "v2" to match it`
		bad(fix, "voucher redeem: %v", err)
	case errors.Is(err, api.ErrInvalidArgument):
		skip("voucher redeem: %v", err)
	default:
		bad("see the error; check the MyQ server log", "voucher redeem failed: %v", err)
	}
}
