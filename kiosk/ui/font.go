package ui

import (
	"github.com/gdamore/tcell/v2"
	"github.com/mattn/go-runewidth"
)

// bigFont is a 5-row font drawn with full and half blocks, for the running
// total. It has the digits, both decimal separators, the thousands
// separators, minus and the euro sign; anything else (Kč, CZK) is drawn at
// normal size on the bottom row.
var bigFont = map[rune][5]string{
	'0': {"████", "█  █", "█  █", "█  █", "████"},
	'1': {"  █ ", " ██ ", "  █ ", "  █ ", " ███"},
	'2': {"████", "   █", "████", "█   ", "████"},
	'3': {"████", "   █", " ███", "   █", "████"},
	'4': {"█  █", "█  █", "████", "   █", "   █"},
	'5': {"████", "█   ", "████", "   █", "████"},
	'6': {"████", "█   ", "████", "█  █", "████"},
	'7': {"████", "   █", "  █ ", " █  ", " █  "},
	'8': {"████", "█  █", "████", "█  █", "████"},
	'9': {"████", "█  █", "████", "   █", "████"},
	'.': {" ", " ", " ", " ", "█"},
	',': {"  ", "  ", "  ", " █", "▄▀"},
	'-': {"   ", "   ", "███", "   ", "   "},
	'€': {" ████", "█    ", "████ ", "█    ", " ████"},
	' ': {" ", " ", " ", " ", " "},
	// thousands separators: the cs no-break space is just a gap
	'\u00a0': {" ", " ", " ", " ", " "},
}

const bigRows = 5

// bigWidth is the width of s drawn by drawBig.
func bigWidth(s string) int {
	w, prev := 0, false
	for _, r := range s {
		if g, ok := bigFont[r]; ok {
			if w > 0 {
				w++ // gap
			}
			w += runewidth.StringWidth(g[0])
			prev = true
			continue
		}
		if prev {
			w++
		}
		prev = false
		w += runewidth.RuneWidth(r)
	}
	return w
}

// drawBig draws s with its top-left corner at x, y.
func drawBig(c *canvas, x, y int, s string, st tcell.Style) {
	first, prev := true, false
	for _, r := range s {
		if g, ok := bigFont[r]; ok {
			if !first {
				x++
			}
			for row := 0; row < bigRows; row++ {
				c.text(x, y+row, g[row], st)
			}
			x += runewidth.StringWidth(g[0])
			first, prev = false, true
			continue
		}
		if prev {
			x++
		}
		first, prev = false, false
		x = c.text(x, y+bigRows-1, string(r), st.Bold(true))
	}
}
