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
	// The euro sign's two bars stick out to the left, or it reads as "E".
	'€': {"  ███", "████ ", " █   ", "████ ", "  ███"},
	' ': {" ", " ", " ", " ", " "},
	// thousands separators: the cs no-break space is just a gap
	'\u00a0': {" ", " ", " ", " ", " "},
}

const bigRows = 5

// bigWidth is the width of s drawn by drawBig at scale k.
func bigWidth(s string, k int) int {
	w, prev := 0, false
	for _, r := range s {
		if g, ok := bigFont[r]; ok {
			if w > 0 {
				w += k // gap
			}
			w += runewidth.StringWidth(g[0]) * k
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

// bigScale is the largest scale (1 to 3) at which s fits w columns and h
// rows, so the total stays the largest thing on any screen size.
func bigScale(s string, w, h int) int {
	n := 1
	for k := 2; k <= 3; k++ {
		if bigWidth(s, k) <= w && bigRows*k <= h {
			n = k
		}
	}
	return n
}

// drawBig draws s with its top-left corner at x, y, each glyph pixel k
// times wider and higher. A cell is two pixels high (full and half
// blocks), so half blocks scale too.
func drawBig(c *canvas, x, y int, s string, st tcell.Style, k int) {
	first, prev := true, false
	for _, r := range s {
		if g, ok := bigFont[r]; ok {
			if !first {
				x += k
			}
			gw := runewidth.StringWidth(g[0])
			px := glyphPixels(g)
			for row := 0; row < bigRows*k; row++ {
				for col := 0; col < gw*k; col++ {
					top, bottom := px[(2*row)/k][col/k], px[(2*row+1)/k][col/k]
					ch := ' '
					switch {
					case top && bottom:
						ch = '█'
					case top:
						ch = '▀'
					case bottom:
						ch = '▄'
					}
					if ch != ' ' {
						c.set(x+col, y+row, ch, st)
					}
				}
			}
			x += gw * k
			first, prev = false, true
			continue
		}
		if prev {
			x++
		}
		first, prev = false, false
		x = c.text(x, y+bigRows*k-1, string(r), st.Bold(true))
	}
}

// glyphPixels turns a glyph into pixels, two rows per cell.
func glyphPixels(g [bigRows]string) [2 * bigRows][]bool {
	var px [2 * bigRows][]bool
	for row, line := range g {
		for _, ch := range line {
			px[2*row] = append(px[2*row], ch == '█' || ch == '▀')
			px[2*row+1] = append(px[2*row+1], ch == '█' || ch == '▄')
		}
	}
	return px
}
