package main

import (
	"context"
	"sort"

	"github.com/printroom/voucherkiosk/devices"
)

// probeOptions is what `kioskctl probe` and `simulate` parsed from their
// flags; every protocol sees all of it.
type probeOptions struct {
	Port      string
	Baud      int           // 0: the protocol's default
	Encrypt   bool          // essp: negotiate eSSP encryption
	KeyHex    string        // essp: the fixed 64-bit key as 16 hex digits
	Values    map[int]int64 // pulse count or coin/note position -> minor units
	Transform string        // card transform chain
	Reveal    bool          // print whole card numbers (the technician asked)
	Dir       string        // simulate: where the stable port symlink goes
	// Open opens the port; nil means the real serial port. probe --trace
	// sets one that records every byte.
	Open devices.OpenFunc
}

// protocolTool is one device protocol's probe and simulator. Each protocol
// registers itself from its own file, so `probe` and `simulate` dispatch on
// --protocol without knowing them.
type protocolTool struct {
	// probe opens the real device and prints what it sends as decoded events
	// until ctx ends.
	probe func(ctx context.Context, e *env, o probeOptions) error
	// simulate starts a simulator on a pty, prints the path to configure and
	// the keys that drive it, and runs until ctx ends.
	simulate func(ctx context.Context, e *env, o probeOptions) error
}

var protocols = map[string]protocolTool{}

func registerProtocol(name string, t protocolTool) {
	if _, dup := protocols[name]; dup {
		panic("kioskctl: protocol registered twice: " + name)
	}
	protocols[name] = t
}

func protocolNames() []string {
	names := make([]string, 0, len(protocols))
	for n := range protocols {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
