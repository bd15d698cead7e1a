// Package configs holds the example configurations, embedded so the daemon
// can run its demo without files on disk: kioskd.toml (a real site, every
// key explained) and demo.toml (what `kioskd --demo` runs).
// See docs/ARCHITECTURE.md for its place among the packages.
package configs

import _ "embed"

// Demo is demo.toml: loopback fake MyQ, placeholder ports the demo replaces
// with its simulators.
//
//go:embed demo.toml
var Demo []byte

// Example is kioskd.toml, the commented configuration the Debian package
// installs as /etc/kioskd/kioskd.toml.
//
//go:embed kioskd.toml
var Example []byte
