package config

import (
	"fmt"
	"strconv"
	"strings"
)

// Problem is one thing wrong with a config, said so a technician can fix it
// without reading code: which file, which line, which key, what is wrong and
// what right looks like.
type Problem struct {
	File string // base name or path as given to Parse/Load
	Line int    // 1-based; 0 when no line applies (a missing key, a file on disk)
	// Key is the TOML path: "kiosk.max_topup", "acceptor[2].port" (acceptor
	// index 1-based, as the technician counts [[acceptor]] blocks). Empty for
	// problems with the file as a whole.
	Key string
	// Name is the [[acceptor]]'s name when Key is inside one and the name
	// is known: the problem names the acceptor "coins", not "#2".
	Name string
	Msg  string
}

func (p Problem) Error() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		if p.Line > 0 {
			fmt.Fprintf(&b, ":%d", p.Line)
		}
		b.WriteString(": ")
	}
	if p.Key != "" {
		b.WriteString(renderNamedKey(p.Key, p.Name))
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// RenderKey writes a TOML path the way the technician sees it in the file:
// "kiosk.max_topup" → "[kiosk] max_topup", "acceptor[2].values.5" →
// "[[acceptor]] #2 values.5".
func RenderKey(key string) string {
	table, rest, found := strings.Cut(key, ".")
	if !found {
		if name, idx, ok := strings.Cut(table, "["); ok {
			return "[[" + name + "]] #" + strings.TrimSuffix(idx, "]")
		}
		return key
	}
	if name, idx, ok := strings.Cut(table, "["); ok {
		return "[[" + name + "]] #" + strings.TrimSuffix(idx, "]") + " " + rest
	}
	return "[" + table + "] " + rest
}

// Problems is every problem found in one go, so a technician fixes a config
// in one round instead of one error per restart.
type Problems []Problem

func (ps Problems) Error() string {
	switch len(ps) {
	case 0:
		return "no problems"
	case 1:
		return ps[0].Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d problems:", len(ps))
	for _, p := range ps {
		b.WriteString("\n  ")
		b.WriteString(p.Error())
	}
	return b.String()
}

// Err returns ps as an error, or nil when there are none (a nil Problems in
// an error interface would not compare equal to nil).
func (ps Problems) Err() error {
	if len(ps) == 0 {
		return nil
	}
	return ps
}

// renderNamedKey is RenderKey with an array table shown by its name:
// "acceptor[2].port", "coins" → `[[acceptor]] "coins" port`.
func renderNamedKey(key, name string) string {
	table, rest, _ := strings.Cut(key, ".")
	tname, _, isArray := strings.Cut(table, "[")
	if name == "" || !isArray {
		return RenderKey(key)
	}
	s := "[[" + tname + "]] " + strconv.Quote(name)
	if rest != "" {
		s += " " + rest
	}
	return s
}

// acceptorIndex is N of a key inside "acceptor[N]" (1-based), else 0.
func acceptorIndex(key string) int {
	rest, ok := strings.CutPrefix(key, "acceptor[")
	if !ok {
		return 0
	}
	n, _, ok := strings.Cut(rest, "]")
	if !ok {
		return 0
	}
	i, err := strconv.Atoi(n)
	if err != nil {
		return 0
	}
	return i
}
