package main

import (
	"fmt"
	"log/slog"
	"sort"
	"strconv"

	"github.com/printroom/voucherkiosk/devices"
	"github.com/printroom/voucherkiosk/devices/bill"
	"github.com/printroom/voucherkiosk/devices/card"
	"github.com/printroom/voucherkiosk/devices/coin"
	"github.com/printroom/voucherkiosk/kiosk/config"
	"github.com/printroom/voucherkiosk/kiosk/journal"
)

// hardware is every configured device, built but not yet running.
type hardware struct {
	all       []devices.Device
	acceptors []devices.Acceptor
	// values maps "<device>:<key>" to the amount, for the cash report.
	values   map[string]int64
	accepted []int64
}

func intKeys(name string, values map[string]int64) (map[int]int64, error) {
	out := make(map[int]int64, len(values))
	for k, v := range values {
		n, err := strconv.Atoi(k)
		if err != nil {
			return nil, fmt.Errorf("acceptor %s: values key %q is not a number", name, k)
		}
		out[n] = v
	}
	return out, nil
}

// buildHardware turns the config into drivers. The ledger at start gives
// each driver what it must not forget across a restart: the ccTalk event
// counter and the notes still in escrow.
func buildHardware(cfg *config.Config, snap journal.Snapshot, log *slog.Logger) (*hardware, error) {
	hw := &hardware{values: map[string]int64{}}
	chain, err := card.ParseChain(cfg.CardReader.Transform)
	if err != nil {
		return nil, fmt.Errorf("[card_reader] transform: %w", err)
	}
	reader, err := card.NewReader(card.Config{
		Name: config.CardReaderName, Port: cfg.CardReader.Port, Baud: cfg.CardReader.Baud,
		Format: cfg.CardReader.Format, Pattern: cfg.CardReader.Pattern, Transform: chain,
		Log: log,
	})
	if err != nil {
		return nil, fmt.Errorf("card reader: %w", err)
	}
	hw.all = append(hw.all, reader)

	counters := snap.Counters()
	pendingNotes := map[string]int{}
	for _, n := range snap.PendingNotes() {
		pendingNotes[n.Device]++
	}
	// A validator's last note credit may await EVENT_ACK: it may repeat it.
	unacked := map[string]bool{}
	for dev := range snap.Unacked() {
		unacked[dev] = true
	}
	seen := map[int64]bool{}
	for _, a := range cfg.Acceptors {
		values, err := intKeys(a.Name, a.Values)
		if err != nil {
			return nil, err
		}
		for k, v := range a.Values {
			hw.values[a.Name+":"+k] = v
			if !seen[v] {
				seen[v] = true
				hw.accepted = append(hw.accepted, v)
			}
		}
		dlog := log
		var acc devices.Acceptor
		switch a.Protocol {
		case config.ProtocolPulse:
			acc, err = coin.NewPulse(coin.PulseConfig{Name: a.Name, Port: a.Port, Baud: a.Baud, Encoding: coin.Encoding(a.Encoding), Gap: a.PulseGap, Values: values, Log: dlog})
		case config.ProtocolCCTalk:
			acc, err = coin.NewCCTalk(coin.CCTalkConfig{Name: a.Name, Port: a.Port, Baud: a.Baud, Address: byte(a.Address),
				CRC16: a.CRC16, PollInterval: a.PollInterval, Values: values, LastCounter: counters[a.Name], Log: dlog})
		case config.ProtocolESSP:
			acc, err = bill.New(bill.Config{Name: a.Name, Port: a.Port, Values: values, Currency: cfg.Kiosk.Currency,
				Encryption: a.Encryption, KeyHex: a.FixedKey.Reveal(), PendingNotes: pendingNotes[a.Name],
				UnackedCredit: unacked[a.Name], Log: dlog})
		default:
			err = fmt.Errorf("unknown protocol %q", a.Protocol)
		}
		if err != nil {
			return nil, fmt.Errorf("acceptor %s: %w", a.Name, err)
		}
		hw.all = append(hw.all, acc)
		hw.acceptors = append(hw.acceptors, acc)
	}
	sort.Slice(hw.accepted, func(i, j int) bool { return hw.accepted[i] < hw.accepted[j] })
	return hw, nil
}
