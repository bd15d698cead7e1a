package ui

import (
	"strings"
	"unicode"
)

// How much of a student's name the screen shows (config [kiosk] greeting).
// Anyone can tap a card that is not theirs, or walk an emulated card through
// numbers, so the kiosk shows as little as the print room wants.
const (
	GreetingFull     = "full"     // "Jana Nováková"
	GreetingFirst    = "first"    // "Jana"
	GreetingInitials = "initials" // "J. N."
)

// GreetingName is name as the greeting mode shows it. An unknown or empty
// mode shows the full name (the UI's zero value; the config defaults to
// first).
func GreetingName(name, mode string) string {
	words := strings.Fields(name)
	if len(words) == 0 {
		return ""
	}
	switch mode {
	case GreetingFirst:
		return words[0]
	case GreetingInitials:
		var b strings.Builder
		for i, w := range words {
			if i > 0 {
				b.WriteByte(' ')
			}
			r := []rune(w)[0]
			b.WriteRune(unicode.ToUpper(r))
			b.WriteByte('.')
		}
		return b.String()
	default:
		return strings.Join(words, " ")
	}
}

// name is a student's name as this kiosk shows it.
func (u *UI) name(full string) string { return GreetingName(full, u.opts.Greeting) }

// showBalance says whether balances appear on screen.
func (u *UI) showBalance() bool { return !u.opts.HideBalance }
