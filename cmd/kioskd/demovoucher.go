package main

import (
	"fmt"
	"sync/atomic"

	"github.com/gdamore/tcell/v2"

	"github.com/printroom/voucherkiosk/api/myqfake"
	"github.com/printroom/voucherkiosk/devices/devsim"
	"github.com/printroom/voucherkiosk/kiosk/config"
	"github.com/printroom/voucherkiosk/kiosk/ui"
)

// demoScanner is the demo's serial voucher scanner on a pty and its keys.
type demoScanner struct {
	*devsim.LineReader
	keys []ui.FooterKey
}

// demoVoucherScanner starts a simulated scanner when the demo config has
// [voucher_reader]: F11 scans a fresh €5.00 voucher, F1 a used one (F12 quits the demo).
func demoVoucherScanner(cfg *config.Config, fake *myqfake.Server, simDir string) (*demoScanner, error) {
	if !cfg.Voucher.Enabled || cfg.VoucherReader.Port == "" {
		return nil, nil
	}
	sim, err := devsim.NewLineReader(simDir)
	if err != nil {
		return nil, fmt.Errorf("demo: voucher scanner simulator: %w", err)
	}
	cfg.VoucherReader.Port = sim.Path()
	var n atomic.Int64
	return &demoScanner{LineReader: sim, keys: []ui.FooterKey{
		{Key: tcell.KeyF11, Label: "voucher", Do: func() {
			code := fmt.Sprintf("DEMO-5EUR-%04d", n.Add(1))
			fake.AddVouchers(myqfake.Voucher{Code: code, Value: 500})
			sim.TapCard(code)
		}},
		{Key: tcell.KeyF1, Label: "used voucher", Do: func() { sim.TapCard(myqfake.DemoUsedVoucherCode) }},
	}}, nil
}
