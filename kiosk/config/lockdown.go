package config

import (
	"net"
	"slices"
)

// Greetings: how much of a student's name the screen shows to whoever stands
// behind them (or walks a card emulator through card numbers).
const (
	GreetingFull     = "full"     // "Jana Nováková"
	GreetingFirst    = "first"    // "Jana"
	GreetingInitials = "initials" // "J. N."
)

var greetings = []string{GreetingFull, GreetingFirst, GreetingInitials}

// kioskPrivacy parses [kiosk] greeting and show_balance.
func (p *parser) kioskPrivacy(m map[string]any, k *Kiosk) {
	const t = "kiosk"
	k.Greeting, k.ShowBalance = GreetingFirst, true
	if g, ok := p.str(m, t, "greeting", `"first"`, false); ok {
		if !slices.Contains(greetings, g) {
			p.add(t+".greeting", "%q: want \"full\" (whole name), \"first\" (first name) or \"initials\"; write e.g. greeting = \"first\"", g)
		} else {
			k.Greeting = g
		}
	}
	if b, ok := p.boolean(m, t, "show_balance"); ok {
		k.ShowBalance = b
	}
}

// monitorRemote parses [monitor] allow_remote: without it the monitor
// listens on loopback only, since /status and /metrics tell anyone on the
// campus network how much cash the box holds.
func (p *parser) monitorRemote(m map[string]any, mon *Monitor) {
	if b, ok := p.boolean(m, "monitor", "allow_remote"); ok {
		mon.AllowRemote = b
	}
	if mon.Listen != "" && !mon.AllowRemote && !isLoopback(listenHost(mon.Listen)) {
		p.add("monitor.listen", "%q is not a loopback address: /status tells anyone who can reach it what the cash box holds; "+
			"listen on \"127.0.0.1:9464\", or set allow_remote = true and firewall the port", mon.Listen)
		mon.Listen = ""
	}
}

func listenHost(addr string) string {
	h, _, _ := net.SplitHostPort(addr)
	return h
}
