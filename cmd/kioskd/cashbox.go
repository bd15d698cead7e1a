package main

import (
	"github.com/printroom/voucherkiosk/devices"
	"github.com/printroom/voucherkiosk/kiosk"
	"github.com/printroom/voucherkiosk/kiosk/config"
	"github.com/printroom/voucherkiosk/kiosk/control"
)

// cashboxes describes every acceptor's cash box to the engine's capacity
// rule: its configured capacity and threshold, and whether the hardware can
// refuse money.
func cashboxes(cfg *config.Config, acc []devices.Acceptor) []kiosk.Cashbox {
	var out []kiosk.Cashbox
	for _, a := range acc {
		b := kiosk.Cashbox{Device: a.Name(), CanInhibit: a.CanInhibit()}
		for _, c := range cfg.Acceptors {
			if c.Name == a.Name() {
				b.Capacity, b.NearFull = c.CashboxCapacity, c.CashboxNearFull
				b.Notes = c.Protocol == config.ProtocolESSP
			}
		}
		out = append(out, b)
	}
	return out
}

// cashboxFill is the engine's fill levels as the control protocol and the
// monitor show them.
func cashboxFill(fs []kiosk.CashboxFill) []control.CashboxFill {
	var out []control.CashboxFill
	for _, f := range fs {
		out = append(out, control.CashboxFill{Acceptor: f.Device, Pieces: f.Pieces, Capacity: f.Capacity,
			Percent: f.Percent, NearFull: f.NearFull})
	}
	return out
}
