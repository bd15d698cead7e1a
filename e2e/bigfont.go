package e2e

import "strings"

// glyphs is the kiosk's 5-row block font for the running total, written
// down here independently of kiosk/ui so a change of the drawn digits that a
// student would notice fails a test rather than passing silently.
var glyphs = map[rune][5]string{
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
	'€': {"  ███", "████ ", " █   ", "████ ", "  ███"}, // two bars, or it reads as "E"
}

// RenderBig draws s the way the kiosk draws its total: glyphs one column
// apart. Only glyph characters are supported (en "€12.50").
func RenderBig(s string) [5]string {
	var rows [5]strings.Builder
	first := true
	for _, r := range s {
		g, ok := glyphs[r]
		if !ok {
			continue
		}
		for i := range rows {
			if !first {
				rows[i].WriteByte(' ')
			}
			rows[i].WriteString(g[i])
		}
		first = false
	}
	var out [5]string
	for i := range rows {
		out[i] = rows[i].String()
	}
	return out
}

// HasBig reports whether the screen shows s in the big font anywhere, at
// any of the scales the kiosk draws it (1 to 3: each pixel, two per cell
// row, k times wider and higher).
func HasBig(screen, s string) bool {
	for k := 1; k <= 3; k++ {
		if hasBigAt(screen, scaleBig(RenderBig(s), k)) {
			return true
		}
	}
	return false
}

func scaleBig(rows [5]string, k int) [][]rune {
	var px [10][]bool
	for i, row := range rows {
		for _, r := range row {
			px[2*i] = append(px[2*i], r == '█' || r == '▀')
			px[2*i+1] = append(px[2*i+1], r == '█' || r == '▄')
		}
	}
	out := make([][]rune, 5*k)
	for y := range out {
		for x := 0; x < len(px[0])*k; x++ {
			top, bottom := px[(2*y)/k][x/k], px[(2*y+1)/k][x/k]
			r := ' '
			switch {
			case top && bottom:
				r = '█'
			case top:
				r = '▀'
			case bottom:
				r = '▄'
			}
			out[y] = append(out[y], r)
		}
	}
	return out
}

func hasBigAt(screen string, pat [][]rune) bool {
	w := len(pat[0])
	h := len(pat)
	lines := strings.Split(screen, "\n")
	grid := make([][]rune, len(lines))
	for i, l := range lines {
		r := []rune(l)
		for len(r) < Cols+w {
			r = append(r, ' ')
		}
		grid[i] = r
	}
	for y := 0; y+h <= len(grid); y++ {
		for x := 0; x+w <= len(grid[y]); x++ {
			if match(grid, y, x, pat) {
				// The glyphs must stand alone: a blank column on
				// each side, so "€1.50" does not match inside "€11.50".
				if (x == 0 || blankCol(grid, y, x-1)) && blankCol(grid, y, x+w) {
					return true
				}
			}
		}
	}
	return false
}

func match(grid [][]rune, y, x int, pat [][]rune) bool {
	for i := range pat {
		row := grid[y+i]
		for j, r := range pat[i] {
			if row[x+j] != r {
				return false
			}
		}
	}
	return true
}

func blankCol(grid [][]rune, y, x int) bool {
	for i := 0; i < 5; i++ {
		if x < len(grid[y+i]) && grid[y+i][x] != ' ' {
			return false
		}
	}
	return true
}
