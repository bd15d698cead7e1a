package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/printroom/voucherkiosk/api"
	"github.com/printroom/voucherkiosk/devices"
	"github.com/printroom/voucherkiosk/devices/voucher"
	"github.com/printroom/voucherkiosk/kiosk"
	"github.com/printroom/voucherkiosk/kiosk/booking"
	"github.com/printroom/voucherkiosk/kiosk/config"
	"github.com/printroom/voucherkiosk/kiosk/journal"
	"github.com/printroom/voucherkiosk/kiosk/voucherlink"
)

// VoucherScannerName is the serial voucher scanner's device name.
const VoucherScannerName = "voucher"

// voucherParts builds what vouchers need from the config: the booking side
// (nil when vouchers are off), the engine's rules and the serial scanner
// (nil when there is none).
func voucherParts(cfg *config.Config, client *api.Client, j *journal.Journal, post func(any), log *slog.Logger) (*booking.Vouchers, kiosk.VoucherRules, devices.Device, error) {
	rules := kiosk.VoucherRules{Enabled: cfg.Voucher.Enabled, Pattern: cfg.Voucher.VoucherPattern()}
	if !cfg.Voucher.Enabled {
		return nil, rules, nil, nil
	}
	form, err := api.ParseVoucherAPI(cfg.Voucher.API)
	if err != nil {
		return nil, rules, nil, fmt.Errorf("[voucher] %w", err)
	}
	v, err := booking.NewVouchers(booking.VoucherConfig{
		Client: client, Journal: j, Log: log.With("part", "vouchers"),
		Form: form, Provider: cfg.Voucher.Provider, CodeParam: cfg.Voucher.CodeParam,
		OnResult: func(r booking.VoucherResult) { post(voucherlink.Result(r)) },
	})
	if err != nil {
		return nil, rules, nil, err
	}
	var scanner devices.Device
	if cfg.VoucherReader.Port != "" {
		s, err := voucher.NewScanner(voucher.Config{Name: VoucherScannerName, Port: cfg.VoucherReader.Port,
			Baud: cfg.VoucherReader.Baud, Pattern: cfg.VoucherReader.Pattern, Log: log})
		if err != nil {
			return nil, rules, nil, fmt.Errorf("voucher reader: %w", err)
		}
		scanner = s
	}
	return v, rules, scanner, nil
}

// runVouchers is Run for the daemon's part list (a nil Vouchers runs nothing).
func runVouchers(v *booking.Vouchers) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		if v == nil {
			<-ctx.Done()
			return nil
		}
		return v.Run(ctx)
	}
}
